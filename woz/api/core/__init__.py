"""What every dialect shares: intake, the exchange of a task for an answer, SSE, waiting,
pacing, uploads, and errors in the caller's dialect."""
