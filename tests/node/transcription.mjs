// An audio file uploaded through the SDK's multipart support, transcribed by the operator.
import { toFile } from "openai";
import { client, report } from "./client.mjs";

const wav = Buffer.from(process.env.WOZ_AUDIO_BASE64, "base64");
const transcription = await client().audio.transcriptions.create({
  file: await toFile(wav, "speech.wav", { type: "audio/wav" }),
  model: "wizard",
  response_format: "verbose_json",
});
report({
  text: transcription.text,
  duration: transcription.duration,
  segments: transcription.segments.length,
});
