// The page's entry point: one WebSocket to the server, the three views, errors shown at the top.
import { TrainView } from "./train.js";
import { BackpropView } from "./backprop.js";
import { SandboxView } from "./sandbox.js";
import { setupZoomButtons } from "./graph.js";

// Replies that answer each kind of request: a drag sends a new request only once the previous
// one was answered, so a fast slider never queues up hundreds of them.
const ANSWERED_BY = {
  update: ["set_param"], sample: ["sample"], formula: ["formula"], formula_variables: ["formula"],
  neuron_map: ["neuron_map"], neuron_maps: ["neuron_maps"], state: ["config", "dataset"],
};

class Connection {
  constructor(url) {
    this.handlers = {};
    this.busy = {};     // request type -> true while one is unanswered
    this.pending = {};  // request type -> the newest request waiting for its turn
    this.status = document.getElementById("connection");
    this.socket = new WebSocket(url);
    this.socket.addEventListener("open", () => this.setStatus("connected", "ok"));
    this.socket.addEventListener("close", () => this.setStatus("disconnected: is the server still running? reload to reconnect", "lost"));
    this.socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
  }
  setStatus(text, cls) { this.status.textContent = text; this.status.className = "connection " + cls; }
  on(type, handler) { (this.handlers[type] = this.handlers[type] || []).push(handler); }
  send(message) {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
  // Send `message` now, or as soon as the previous request of its type was answered (only the
  // newest waiting one is kept).
  sendLatest(message) {
    if (this.busy[message.type]) { this.pending[message.type] = message; return; }
    this.busy[message.type] = true;
    this.send(message);
  }
  answered(requestType) {
    if (!this.busy[requestType]) return;
    this.busy[requestType] = false;
    const next = this.pending[requestType];
    if (next) { delete this.pending[requestType]; this.sendLatest(next); }
  }
  receive(message) {
    (ANSWERED_BY[message.type] || []).forEach((type) => this.answered(type));
    if (message.type === "error" && message.request) this.answered(message.request);
    (this.handlers[message.type] || []).forEach((handler) => handler(message));
  }
}

const errorBox = document.getElementById("error");
const errorText = document.getElementById("error-text");
let errorTimer = null;
export function showError(text) {
  errorText.textContent = text;
  errorBox.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => { errorBox.hidden = true; }, 12000);
}
document.getElementById("error-close").addEventListener("click", () => { errorBox.hidden = true; });

const connection = new Connection(`ws://${location.host}/ws`);
connection.on("error", (message) => showError(message.message));

const views = {
  train: new TrainView(connection),
  backprop: new BackpropView(connection),
  sandbox: new SandboxView(connection),
};

function showView(name) {
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.view === name));
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === "view-" + name));
  views[name].shown();
}
document.querySelectorAll(".tabs button").forEach((button) =>
  button.addEventListener("click", () => showView(button.dataset.view)));
setupZoomButtons();

// Arrow keys step through backward in the view that has a stepper, unless typing in a field.
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea")) return;
  const active = document.querySelector(".view.active");
  const view = active && views[active.id.replace("view-", "")];
  if (view && view.stepper) view.stepper.key(event);
});
window.gradwalk = { connection, views };  // for the browser tests and the curious
