// The operator socket (protocol v1), kept open: it reconnects with backoff
// after any drop, and when the server refuses it, finds out whether the
// console session is the reason so the operator gets a clear message.
//
// A network that vanishes does not always close a WebSocket: no close frame or
// reset may ever arrive, and a browser would show "Connected" while answers go
// nowhere. So the socket is given up at once when the browser goes offline,
// and when a ping gets no frame back in time.

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000, 10000];
const PING_EVERY_MS = 15000; // after this long without a frame from the server
const SILENCE_LIMIT_MS = 10000; // no frame this long after a ping: the socket is dead

export class Connection {
  /**
   * onFrame(frame): every JSON frame from the server.
   * onStatus(status, detail): "connecting" | "open" | "waiting" (detail: ms
   * until the next try) | "unauthorized" (detail: message) | "stopped".
   */
  constructor({ onFrame, onStatus }) {
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${location.host}/operator/ws`;
    this.lastFrameAt = 0;
    this.pingedAt = 0;
    window.addEventListener("online", () => this.retryNow());
    window.addEventListener("offline", () => this.drop());
    setInterval(() => this.checkAlive(), 1000);
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  /** Stop reconnecting (another tab took over, or the session is gone). */
  stop(status = "stopped", detail = "") {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
    this.onStatus(status, detail);
  }

  /** Give the socket up now (the network is gone) and reconnect with backoff. */
  drop() {
    const ws = this.ws;
    if (!ws || this.stopped) return;
    this.ws = null; // its close event, whenever it comes, is then ignored
    ws.close();
    this.schedule();
  }

  checkAlive() {
    if (!this.open) return;
    const now = Date.now();
    if (this.pingedAt > this.lastFrameAt && now - this.pingedAt > SILENCE_LIMIT_MS) this.drop();
    else if (this.pingedAt <= this.lastFrameAt && now - this.lastFrameAt > PING_EVERY_MS) {
      this.pingedAt = now;
      this.send({ type: "ping" });
    }
  }

  retryNow() {
    if (this.stopped || this.open || this.ws) return;
    clearTimeout(this.timer);
    this.connect();
  }

  /** The hello arrived: the connection works, so start backoff afresh next time. */
  confirmed() {
    this.attempt = 0;
  }

  send(frame) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  connect() {
    this.timer = null;
    this.onStatus("connecting", "");
    let opened = false;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== this.ws) return;
      opened = true;
      this.lastFrameAt = Date.now();
      this.pingedAt = 0;
      this.onStatus("open", "");
    });
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return; // a socket already given up
      this.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object") this.onFrame(frame);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return; // given up already (or replaced): nothing to do
      this.ws = null;
      if (this.stopped) return;
      if (opened) this.schedule();
      else this.diagnose();
    });
  }

  /** The socket never opened: a refused login, or a network problem? */
  async diagnose() {
    let response = null;
    try {
      response = await fetch("/console/session", { credentials: "same-origin", cache: "no-store" });
    } catch {
      response = null; // offline: keep trying
    }
    if (this.stopped) return;
    if (response && response.status === 401) {
      let message = "You are not logged in.";
      try {
        message = (await response.json()).message || message;
      } catch {
        // keep the default message
      }
      this.stop("unauthorized", message);
      return;
    }
    this.schedule();
  }

  schedule() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.onStatus("waiting", delay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
