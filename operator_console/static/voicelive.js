// Hearing a voice session live: as soon as the server says a Realtime session was
// routed to this operator (the `voice_session` frame, before its first
// utterance), or a task names one, the console listens to it
// (`/operator/voice/<session>`) for as long as it lasts, plays each utterance
// while the participant is still speaking, the first one included, and shows the
// session's state in a small status line ("Participant speaking…"). Text frames
// are JSON state; binary frames are PCM16 at 24 kHz. Nothing received is ever
// rendered as markup.

import { h } from "./dom.js";

const RATE = 24000;
const monitors = new Map();
const STATES = {
  listening: "🎧 A voice session is open: the participant is heard as they speak",
  speech_started: "🎙 Participant speaking…",
  speech_stopped: "Participant finished speaking",
  committed: "Participant finished speaking",
  speaking: "🔊 Your answer is being spoken",
  interrupted: "⚡ The participant interrupted the answer",
  done: "Answer spoken",
  ended: "The voice session has ended",
};

let statusLine = null;

function status() {
  if (!statusLine) {
    statusLine = h("div", { class: "voice-live", role: "status", "aria-live": "polite", hidden: true });
    document.body.append(statusLine);
  }
  return statusLine;
}

class VoiceMonitor {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.heardLive = new Set(); // utterances played while spoken
    this.committed = new Set(); // utterances this socket saw end (the latest few)
    this.settling = new Map(); // item id -> what to do once it is seen committed
    this.current = null; // the utterance being spoken
    this.bytes = 0;
    this.playEnd = 0;
    this.listeners = new Set();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/operator/voice/${encodeURIComponent(sessionId)}`);
    this.ws.binaryType = "arraybuffer";
    this.ws.addEventListener("open", () => {
      this.opened = true;
      this.show("listening");
    });
    this.ws.addEventListener("message", (event) => this.onMessage(event.data));
    this.ws.addEventListener("close", () => {
      monitors.delete(this.sessionId);
      // Said only of the session the line is about: another one may be live meanwhile.
      if (this.opened && status().dataset.session === this.sessionId) this.show("ended");
    });
  }

  onMessage(data) {
    if (data instanceof ArrayBuffer) {
      this.play(data);
      return;
    }
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "speech_started") this.current = frame.item_id;
    if (frame.type === "committed" && this.current === frame.item_id && this.bytes > 0) this.heardLive.add(frame.item_id);
    if (frame.type === "committed") this.sawCommitted(frame.item_id);
    if (frame.type === "speech_started") this.bytes = 0;
    const state = frame.type === "reply" ? frame.state : frame.type;
    if (!STATES[state]) return;
    this.show(state);
    for (const listener of this.listeners) listener(state);
  }

  show(state) {
    const line = status();
    line.hidden = false;
    line.dataset.state = state;
    line.dataset.session = this.sessionId;
    line.textContent = STATES[state];
  }

  play(buffer) {
    const samples = new Int16Array(buffer);
    if (!samples.length) return;
    this.bytes += buffer.byteLength;
    // Half a second of the participant's voice has been heard live.
    if (this.bytes >= RATE) status().dataset.live = "true";
    try {
      this.context = this.context || new AudioContext({ sampleRate: RATE });
      const audio = this.context.createBuffer(1, samples.length, RATE);
      const channel = audio.getChannelData(0);
      for (let i = 0; i < samples.length; i += 1) channel[i] = samples[i] / 0x8000;
      const source = this.context.createBufferSource();
      source.buffer = audio;
      source.connect(this.context.destination);
      this.playEnd = Math.max(this.playEnd, this.context.currentTime);
      source.start(this.playEnd);
      this.playEnd += audio.duration;
    } catch {
      // no audio output here: the state line still shows, and the task has the recording
    }
  }

  sawCommitted(itemId) {
    this.committed.add(itemId);
    if (this.committed.size > 50) this.committed.delete(this.committed.values().next().value);
    const settle = this.settling.get(itemId);
    if (settle) settle();
  }

  /** Resolves to whether `itemId` was heard live, once this socket has seen it end.
   * Its task travels on the operator's socket and may arrive before this socket's
   * frames do (another process relays them, or a busy machine), so an open monitor
   * waits up to `ms` for them before the turn falls back to playing the recording. */
  settle(itemId, ms) {
    if (this.committed.has(itemId) || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.resolve(this.heard(itemId));
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.settling.delete(itemId);
        resolve(this.heard(itemId));
      };
      const timer = setTimeout(done, ms);
      this.settling.set(itemId, done);
    });
  }

  /** Whether the utterance `itemId` was played here while it was spoken. */
  heard(itemId) {
    return this.heardLive.has(itemId) || (this.current === itemId && this.bytes > 0);
  }

  /** `listener(state)` on every change of state, until the returned function is called. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The live monitor of a voice session, opened on first use; null without a session. */
export function monitorFor(sessionId) {
  if (typeof sessionId !== "string" || !/^sess_[0-9a-f]+$/.test(sessionId)) return null;
  let monitor = monitors.get(sessionId);
  if (!monitor) {
    monitor = new VoiceMonitor(sessionId);
    monitors.set(sessionId, monitor);
  }
  return monitor;
}
