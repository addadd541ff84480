// Voice mode of the participant page: talk to the assistant and hear it answer.
//
// The page speaks the OpenAI Realtime API over `/p/<study>/realtime` (its
// cookie authenticates it): microphone audio goes up as 24 kHz PCM16, the
// spoken answer comes back in chunks that are played in order, and its
// transcript is shown as the answer's caption. Two ways to talk:
//   - push-to-talk: hold the button (or Space on it); releasing it sends the turn;
//   - hands-free: the server's voice detector decides when a turn ends, and
//     speaking over an answer interrupts it.
// The microphone indicator is on whenever audio leaves the page. Every text
// (captions, transcripts) goes into the page with textContent only.

const RATE = 24000;
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter(Boolean));
  return node;
}

function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Float samples (-1..1) as little-endian PCM16 bytes. */
export function pcm16(samples) {
  const out = new DataView(new ArrayBuffer(samples.length * 2));
  for (let i = 0; i < samples.length; i += 1) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    out.setInt16(i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Uint8Array(out.buffer);
}

export class VoiceMode {
  /** `state`: the page's state (its `voice` and study); `onRefused(code)`: consent or
   * withdrawal needs the page to reload its state. */
  constructor(state, { onRefused }) {
    this.studyId = state.study.id;
    this.audioKept = Boolean(state.voice && state.voice.audio_kept);
    this.onRefused = onRefused;
    this.mode = "push";
    this.capturing = false;
    this.capturedMs = 0;
    this.socket = null;
    this.context = null;
    this.playing = [];
    this.playEnd = 0;
    this.playedStart = 0;
    this.answer = null; // {bubble, itemId, text}
    this.spoken = new Map(); // item id -> the participant's bubble
    this.build();
  }

  build() {
    const link = el("link", { rel: "stylesheet", href: "/participant/static/voice.css" });
    document.head.append(link);
    this.indicator = el("span", { class: "mic", role: "status", "aria-live": "polite", text: "Microphone off" });
    this.indicator.dataset.on = "false";
    this.talk = el("button", { type: "button", class: "talk", text: "Hold to talk" });
    this.talk.addEventListener("pointerdown", (event) => { event.preventDefault(); this.press(); });
    for (const end of ["pointerup", "pointerleave", "pointercancel"]) this.talk.addEventListener(end, () => this.release());
    this.talk.addEventListener("keydown", (event) => { if (event.code === "Space" && !event.repeat) { event.preventDefault(); this.press(); } });
    this.talk.addEventListener("keyup", (event) => { if (event.code === "Space") this.release(); });
    const choice = (value, label) => {
      const input = el("input", { type: "radio", name: "voice-mode", value, checked: value === this.mode });
      input.addEventListener("change", () => this.setMode(value));
      return el("label", { class: "voice-choice" }, input, el("span", { text: label }));
    };
    this.note = el("p", { class: "voice-note", text: this.audioKept
      ? "Your voice is recorded and kept for the study, as the consent said."
      : "Your voice is used to answer you and is not kept." });
    this.bar = el("div", { class: "voice-bar", id: "voice-bar", "aria-label": "Voice" },
      el("div", { class: "voice-modes", role: "radiogroup", "aria-label": "How to talk" },
        choice("push", "Push to talk"), choice("hands-free", "Hands-free")),
      this.talk, this.indicator, this.note);
    $("composer").before(this.bar);
  }

  // -- the connection -----------------------------------------------------------

  async connect() {
    if (this.socket) return this.ready;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/p/${encodeURIComponent(this.studyId)}/realtime`;
    this.socket = new WebSocket(url);
    this.ready = new Promise((resolve, reject) => {
      this.socket.addEventListener("open", resolve, { once: true });
      this.socket.addEventListener("error", () => reject(new Error("voice connection failed")), { once: true });
    });
    this.socket.addEventListener("message", (event) => this.onEvent(JSON.parse(event.data)));
    this.socket.addEventListener("close", () => { this.socket = null; this.stopMic(); });
    await this.ready;
    this.configure();
    await this.startMic();
  }

  send(event) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(event));
  }

  configure() {
    const detection = this.mode === "hands-free" ? { type: "server_vad" } : null;
    this.send({ type: "session.update", session: { type: "realtime", output_modalities: ["audio"], audio: { input: { turn_detection: detection } } } });
  }

  async setMode(mode) {
    this.mode = mode;
    this.talk.hidden = mode !== "push";
    if (mode === "hands-free") {
      await this.connect();
      this.configure();
      this.setCapturing(true);
    } else {
      this.setCapturing(false);
      this.configure();
    }
  }

  // -- the microphone -------------------------------------------------------------

  async startMic() {
    if (this.stream) return;
    this.context = this.context || new AudioContext({ sampleRate: RATE });
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    const source = this.context.createMediaStreamSource(this.stream);
    // ScriptProcessor needs no module file (the page's CSP serves scripts from woz only).
    const processor = this.context.createScriptProcessor(2048, 1, 1);
    processor.onaudioprocess = (event) => {
      if (!this.capturing) return;
      const samples = event.inputBuffer.getChannelData(0);
      this.capturedMs += (samples.length / RATE) * 1000;
      this.send({ type: "input_audio_buffer.append", audio: toBase64(pcm16(samples)) });
    };
    const mute = this.context.createGain();
    mute.gain.value = 0;
    source.connect(processor);
    processor.connect(mute);
    mute.connect(this.context.destination);
    this.processor = processor;
  }

  stopMic() {
    this.setCapturing(false);
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
  }

  setCapturing(on) {
    this.capturing = on;
    this.indicator.dataset.on = String(on);
    this.indicator.textContent = on ? (this.mode === "hands-free" ? "● Microphone on · listening" : "● Microphone on") : "Microphone off";
  }

  async press() {
    if (this.mode !== "push" || this.capturing) return;
    try {
      await this.connect();
    } catch (error) {
      this.showError("The microphone or the voice connection is not available here.");
      return;
    }
    this.stopPlayback(true);
    this.capturedMs = 0;
    this.send({ type: "input_audio_buffer.clear" });
    this.setCapturing(true);
    this.talk.classList.add("held");
  }

  release() {
    if (this.mode !== "push" || !this.capturing) return;
    this.setCapturing(false);
    this.talk.classList.remove("held");
    // Let the last buffer of the microphone arrive before the turn is sent.
    setTimeout(() => {
      if (this.capturedMs < 150) return; // a tap, not a turn
      this.send({ type: "input_audio_buffer.commit" });
      this.send({ type: "response.create" });
    }, 120);
  }

  // -- what the server says --------------------------------------------------------

  onEvent(event) {
    switch (event.type) {
      case "input_audio_buffer.speech_started":
        this.indicator.textContent = "● Microphone on · hearing you";
        this.stopPlayback(true);
        break;
      case "input_audio_buffer.speech_stopped":
        if (this.capturing) this.indicator.textContent = "● Microphone on · listening";
        break;
      case "input_audio_buffer.committed":
        this.spoken.set(event.item_id, this.bubble("user", "🎤 …", "spoken"));
        break;
      case "conversation.item.input_audio_transcription.completed": {
        const mine = this.spoken.get(event.item_id);
        if (mine) mine.firstChild.textContent = event.transcript;
        break;
      }
      case "response.created":
        this.answer = { bubble: this.bubble("assistant", "", "spoken"), itemId: null, text: "" };
        break;
      case "response.output_item.added":
        if (this.answer && event.item.type === "message") this.answer.itemId = event.item.id;
        break;
      case "response.output_audio_transcript.delta":
        if (this.answer) {
          this.answer.text += event.delta;
          this.answer.bubble.firstChild.textContent = this.answer.text;
          this.answer.bubble.dataset.caption = "true";
          this.scroll();
        }
        break;
      case "response.output_audio.delta":
        this.play(event.delta);
        break;
      case "response.done":
        if (this.answer && !this.answer.text) this.answer.bubble.remove();
        break;
      case "error":
        this.onError(event.error || {});
        break;
      default:
        break;
    }
  }

  onError(error) {
    if (error.code === "consent_required" || error.code === "participant_withdrawn") {
      this.onRefused(error.code);
      return;
    }
    this.showError(error.message || "Something went wrong with the voice connection.");
  }

  showError(text) {
    $("chat-error").textContent = text;
    $("chat-error").hidden = !text;
  }

  bubble(role, text, kind) {
    $("chat-empty").hidden = true;
    const item = el("li", { class: `msg msg-${role} msg-${kind}` }, el("div", { class: "bubble", text }));
    $("transcript").append(item);
    this.scroll();
    return item;
  }

  scroll() {
    $("scroller").scrollTop = $("scroller").scrollHeight;
  }

  // -- playing the answer ------------------------------------------------------------

  play(base64) {
    const bytes = fromBase64(base64);
    const view = new DataView(bytes.buffer);
    const count = bytes.length >> 1;
    if (!count) return;
    this.context = this.context || new AudioContext({ sampleRate: RATE });
    const buffer = this.context.createBuffer(1, count, RATE);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < count; i += 1) channel[i] = view.getInt16(i * 2, true) / 0x8000;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const now = this.context.currentTime;
    if (this.playEnd < now) {
      this.playEnd = now;
      if (!this.playing.length) this.playedStart = now;
    }
    source.start(this.playEnd);
    this.playEnd += buffer.duration;
    this.playing.push(source);
    this.played = (this.played || 0) + count;
    // Half a second of the answer is on its way to the speakers: the answer is being heard.
    if (this.played >= RATE / 2) this.bar.dataset.speaking = "true";
    source.addEventListener("ended", () => { this.playing = this.playing.filter((s) => s !== source); });
  }

  /** Stop the answer being played; `interrupted`: tell the server how much was heard. */
  stopPlayback(interrupted) {
    if (!this.playing.length) return;
    const heardMs = Math.max(0, Math.round((this.context.currentTime - this.playedStart) * 1000));
    for (const source of this.playing) {
      try { source.stop(); } catch { /* already ended */ }
    }
    this.playing = [];
    this.playEnd = 0;
    if (interrupted && this.answer && this.answer.itemId) {
      this.send({ type: "conversation.item.truncate", item_id: this.answer.itemId, content_index: 0, audio_end_ms: heardMs });
    }
  }

  close() {
    this.stopPlayback(false);
    this.stopMic();
    if (this.socket) this.socket.close();
  }
}
