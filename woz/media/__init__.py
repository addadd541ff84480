"""Media: uploaded files, WebM, speech synthesis."""
