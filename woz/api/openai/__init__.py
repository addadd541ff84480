"""The OpenAI dialects: Chat Completions, Responses, transcriptions, moderations, speech."""
