// The Vercel AI SDK (`ai` with `@ai-sdk/openai` or `@ai-sdk/anthropic`) against woz:
// a streamed text answer, then a tool call, through the provider WOZ_PROVIDER names:
// "responses" (the OpenAI provider's default, the Responses API), "chat" (Chat
// Completions) or "anthropic" (Messages).
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, streamText, tool } from "ai";
import { report } from "./client.mjs";

const settings = { baseURL: process.env.WOZ_BASE_URL, apiKey: process.env.WOZ_APP_KEY };
const provider = process.env.WOZ_PROVIDER;
const model = {
  responses: () => createOpenAI(settings)("wizard"),
  chat: () => createOpenAI(settings).chat("wizard"),
  anthropic: () => createAnthropic(settings)("wizard"),
}[provider]();

const streamed = streamText({ model, system: "Be brief.", prompt: "Recommend a scarf.", maxRetries: 0 });
let text = "";
const errors = [];
for await (const part of streamed.fullStream) {
  if (part.type === "text-delta") text += part.text;
  else if (part.type === "error") errors.push(String(part.error));
}

const weather = tool({
  description: "The weather in a city",
  inputSchema: jsonSchema({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  }),
});
const called = await generateText({
  model,
  prompt: "Weather in Oslo?",
  tools: { get_weather: weather },
  maxRetries: 0,
});

report({
  text,
  errors,
  finish_reason: await streamed.finishReason,
  usage: await streamed.usage,
  tool_calls: called.toolCalls.map((call) => ({ name: call.toolName, input: call.input })),
  tool_finish_reason: called.finishReason,
});
