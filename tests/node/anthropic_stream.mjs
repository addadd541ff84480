// The official `@anthropic-ai/sdk` for Node against woz: a wrong key is an
// AuthenticationError; a streamed answer with text and a tool_use block
// accumulates into the SDK's final message.
import Anthropic from "@anthropic-ai/sdk";
import { report } from "./client.mjs";

const options = { baseURL: process.env.WOZ_URL, timeout: 60_000, maxRetries: 0 };

let refused = null;
try {
  await new Anthropic({ ...options, apiKey: "wrong" }).messages.create({
    model: "wizard",
    max_tokens: 100,
    messages: [{ role: "user", content: "hi" }],
  });
} catch (error) {
  refused = { name: error.constructor.name, status: error.status, type: error.error?.error?.type };
}

const stream = new Anthropic({ ...options, apiKey: process.env.WOZ_APP_KEY }).messages.stream({
  model: "wizard",
  max_tokens: 500,
  system: "Be brief.",
  messages: [{ role: "user", content: "Weather in Oslo?" }],
  tools: [
    {
      name: "get_weather",
      description: "The weather in a city",
      input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  ],
});
const events = [];
let text = "";
stream.on("streamEvent", (event) => events.push(event.type));
stream.on("text", (piece) => { text += piece; });
const message = await stream.finalMessage();
report({
  refused,
  text,
  first: events[0],
  last: events[events.length - 1],
  stop_reason: message.stop_reason,
  content: message.content.map((block) => (block.type === "text"
    ? { type: "text", text: block.text }
    : { type: block.type, name: block.name, input: block.input, id: block.id })),
  usage: message.usage,
});
