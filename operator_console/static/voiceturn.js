// A voice turn (the Realtime API): the participant's last utterance, played as
// soon as the task arrives, its waveform, replay, and a field for what they said.
// The audio is woz's own upload URL (vetted by safeAudioUrl); the transcript the
// operator types goes back in the reply frame's `transcript`.

import { h, safeAudioUrl } from "./dom.js";
import { monitorFor } from "./voicelive.js";

export const VOICE_API = "openai.realtime";
// How long a turn waits for the live socket to catch up before playing the recording.
const LIVE_SETTLE_MS = 1500;

/** The URL of the last audio part of the participant's last turn, or null. */
export function lastUtterance(task) {
  const messages = task.messages || [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role !== "user") continue;
    const audio = (messages[i].content || []).filter((p) => p.type === "audio");
    return audio.length ? safeAudioUrl(audio[audio.length - 1].url) : null;
  }
  return null;
}

/** Peaks of `samples` in `buckets` columns, each 0..1. */
export function peaks(samples, buckets) {
  const out = new Array(buckets).fill(0);
  const per = Math.max(1, Math.floor(samples.length / buckets));
  for (let b = 0; b < buckets; b++) {
    let top = 0;
    for (let i = b * per; i < Math.min(samples.length, (b + 1) * per); i++) top = Math.max(top, Math.abs(samples[i]));
    out[b] = top;
  }
  return out;
}

/** A note that the participant spoke over the previous answer, or null. */
function interruption(cut) {
  if (!cut) return null;
  const seconds = (Number(cut.audio_sent_ms) / 1000).toFixed(1);
  const text = cut.while === "speaking"
    ? `⚡ They interrupted the previous answer (${seconds} s of it had been sent): `
    : "⚡ They spoke again before the previous answer was sent; it was withdrawn.";
  return h("div", { class: "voice-interrupted", role: "note" },
    h("span", { text }),
    cut.while === "speaking" ? h("q", { class: "voice-said", text: String(cut.said || "") }) : null);
}

export class VoiceTurn {
  /** `onFiller(text)`: the wizard chose a filler phrase to say at once. */
  constructor(task, { onFiller } = {}) {
    this.url = lastUtterance(task);
    this.state = h("span", { class: "voice-state", dataset: { state: this.url ? "finished" : "text" },
      text: this.url ? "Finished speaking" : "Typed turn (no audio)" });
    this.canvas = h("canvas", { class: "voice-wave", width: 480, height: 48, "aria-hidden": "true" });
    this.audio = h("audio", { class: "voice-audio", preload: "auto" });
    this.replayButton = h("button", { type: "button", class: "btn btn-small voice-replay", title: "Play the participant's words again",
      disabled: !this.url, on: { click: () => this.play() } }, "Replay");
    this.transcriptInput = h("input", {
      type: "text", class: "voice-transcript", maxLength: 100000,
      "aria-label": "What the participant said",
      placeholder: "What they said (optional: becomes the transcript)",
    });
    this.el = h("div", { class: "voice-turn", "aria-label": "Voice turn" },
      h("div", { class: "voice-head" }, h("span", { class: "voice-title", text: "🎙 Voice" }), this.state, this.replayButton),
      interruption(task.voice && task.voice.interrupted),
      this.canvas, this.audio, this.transcriptInput, this.buildFillers(task, onFiller));
    // From now on the wizard hears this session's next utterances as they are spoken.
    const voice = task.voice || {};
    this.monitor = monitorFor(voice.session_id);
    if (this.url) {
      this.audio.src = this.url;
      this.audio.addEventListener("playing", () => {
        this.el.dataset.heard = "true"; // it played at least once
        this.setState("playing", "Playing what they said");
      });
      this.audio.addEventListener("ended", () => this.setState("finished", "Finished speaking"));
      this.drawWave();
      const heardLive = this.monitor && voice.item_id
        ? this.monitor.settle(voice.item_id, LIVE_SETTLE_MS) : Promise.resolve(false);
      heardLive.then((live) => {
        if (!live) {
          this.play();
          return;
        }
        this.el.dataset.heard = "live";
        this.setState("finished", "Heard live · finished speaking");
      });
    }
  }

  buildFillers(task, onFiller) {
    const fillers = (task.voice && task.voice.fillers) || [];
    if (!fillers.length || !onFiller) return null;
    this.fillerButtons = fillers.map((text) => h("button", {
      type: "button", class: "btn btn-small voice-filler", text, title: "Say this now, while you type the answer",
      on: { click: () => onFiller(text) },
    }));
    return h("div", { class: "voice-fillers", role: "group", "aria-label": "Say at once" },
      h("span", { class: "muted", text: "Say at once:" }), ...this.fillerButtons);
  }

  /** A filler is being said: the others would follow it, so they are put away. */
  fillerSaid(text) {
    for (const button of this.fillerButtons || []) button.disabled = true;
    this.setState("filler", `Saying “${text}”`);
  }

  setState(state, text) {
    this.state.dataset.state = state;
    this.state.textContent = text;
  }

  play() {
    if (!this.url) return;
    this.audio.currentTime = 0;
    // Browsers refuse to play before a user gesture; the Replay button is one.
    this.audio.play().catch(() => this.setState("finished", "Finished speaking · press Replay to listen"));
  }

  async drawWave() {
    try {
      const response = await fetch(this.url, { credentials: "same-origin" });
      const data = await response.arrayBuffer();
      const Context = window.AudioContext || window.webkitAudioContext;
      const context = new Context();
      const decoded = await context.decodeAudioData(data);
      context.close();
      const columns = peaks(decoded.getChannelData(0), this.canvas.width / 2);
      const draw = this.canvas.getContext("2d");
      const mid = this.canvas.height / 2;
      draw.fillStyle = getComputedStyle(this.canvas).color || "#2563eb";
      columns.forEach((peak, i) => {
        const size = Math.max(1, peak * mid);
        draw.fillRect(i * 2, mid - size, 1, size * 2);
      });
      this.canvas.dataset.drawn = String(columns.length);
    } catch {
      this.canvas.hidden = true; // no waveform, the audio itself still plays
    }
  }

  /** What the operator typed of what the participant said, or null. */
  transcript() {
    const text = this.transcriptInput.value.trim();
    return text ? text : null;
  }
}
