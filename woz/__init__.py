"""woz: a Wizard-of-Oz framework.

An app calls what looks like a real AI API; woz routes each request to a human
operator, streams the human's answer back in the vendor's wire format, and
records the exchange with its provenance and disclosure.
"""

__version__ = "0.1.0"
