"""Who may do what: API and operator keys (stored hashed), browser sessions, security
headers, and the same-origin rule for cookie-authenticated changes."""
