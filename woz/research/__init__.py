"""Research features: pseudonyms now; consent, disclosure and the labor ledger build on it."""
