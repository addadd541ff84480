// The chime for a new task: two short tones made with WebAudio, so no sound
// file is needed. Browsers only allow audio after a user gesture; `unlock`
// is called on the first click or key, and a muted chime costs nothing.

export class Chime {
  constructor(enabled) {
    this.enabled = enabled;
    this.context = null;
  }

  unlock() {
    if (!this.context && typeof AudioContext === "function") {
      try {
        this.context = new AudioContext();
      } catch {
        this.context = null;
      }
    }
    if (this.context && this.context.state === "suspended") this.context.resume().catch(() => {});
  }

  play() {
    if (!this.enabled) return;
    this.unlock();
    const ctx = this.context;
    if (!ctx) return;
    try {
      const t = ctx.currentTime;
      for (const [offset, freq] of [[0, 660], [0.12, 880]]) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t + offset);
        gain.gain.exponentialRampToValueAtTime(0.15, t + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.18);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t + offset);
        osc.stop(t + offset + 0.2);
      }
    } catch {
      // no audio output: the title badge still announces the task
    }
  }
}
