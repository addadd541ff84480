// The official `openai` package pointed at the woz under test (WOZ_BASE_URL, WOZ_APP_KEY).
import OpenAI from "openai";

export function client() {
  return new OpenAI({
    baseURL: process.env.WOZ_BASE_URL,
    apiKey: process.env.WOZ_APP_KEY,
    timeout: 60_000, // a human answers: give the request room (ms)
    maxRetries: 0,
  });
}

/** Print the script's result as one JSON line for the Python test to read. */
export function report(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
}
