// A streamed Responses API call answered with text, through the SDK's stream helper.
import { client, report } from "./client.mjs";

const stream = client().responses.stream({
  model: "wizard",
  instructions: "Be brief.",
  input: "Recommend a scarf.",
});
const types = [];
let text = "";
for await (const event of stream) {
  types.push(event.type);
  if (event.type === "response.output_text.delta") text += event.delta;
}
const response = await stream.finalResponse();
report({
  status: response.status,
  output_text: response.output_text,
  streamed_text: text,
  first: types[0],
  last: types[types.length - 1],
  usage: response.usage,
});
