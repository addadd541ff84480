"""Client for apps that talk to a woz server (grows with the research features)."""
