// A streamed chat completion the operator answers with two tool calls, through the
// SDK's stream helper: the final message must carry each call's id and name once.
import { client, report } from "./client.mjs";

const tool = (name) => ({
  type: "function",
  function: {
    name,
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    },
  },
});

const stream = client().chat.completions.stream({
  model: "wizard",
  messages: [{ role: "user", content: "Weather and time in Oslo?" }],
  tools: [tool("get_weather"), tool("get_time")],
  stream_options: { include_usage: true },
});
const argumentsDone = [];
stream.on("tool_calls.function.arguments.done", (event) => argumentsDone.push(event.name));
const completion = await stream.finalChatCompletion();
const [choice] = completion.choices;
report({
  id: completion.id,
  finish_reason: choice.finish_reason,
  tool_calls: choice.message.tool_calls.map((call) => ({
    id: call.id,
    type: call.type,
    name: call.function.name,
    arguments: JSON.parse(call.function.arguments),
  })),
  arguments_done: argumentsDone,
  usage: completion.usage,
});
