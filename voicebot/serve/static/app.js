// voicebot page: microphone -> /ws (16 kHz s16le) ; events and reply audio <- /ws.
// The protocol is in docs/serve.md. State is kept on window.voicebot so a
// test driving the page over the DevTools protocol can read it.
"use strict";

const vb = (window.voicebot = {
  ws: null, ctx: null, stream: null, node: null,
  replyRate: 22050, nextTime: 0, playing: [], figures: {},
  turns: [], events: [], audioBytes: 0, state: "idle",
});
const $ = (id) => document.getElementById(id);

function setStatus(text) { $("status").textContent = text; }

function line(cls, label, text) {
  const div = document.createElement("div");
  div.className = cls;
  if (label) { const b = document.createElement("b"); b.textContent = label + " "; div.append(b); }
  const span = document.createElement("span");
  span.textContent = text;
  div.append(span);
  $("transcript").insertBefore(div, $("partial"));
  return span;
}

let botSpan = null;

function onEvent(ev) {
  vb.events.push(ev.type);
  switch (ev.type) {
    case "ready":
      vb.replyRate = ev.sample_rate; vb.figures = ev.figures; vb.session = ev.session;
      setStatus("listening — speak, then pause"); break;
    case "partial": {
      const p = $("partial");
      p.textContent = ev.committed + " ";
      const tail = document.createElement("span");
      tail.className = "tail"; tail.textContent = ev.partial; p.append(tail);
      break;
    }
    case "final":
      $("partial").textContent = ""; line("you", "you:", ev.text); botSpan = null; break;
    case "reply_text":
      if (!botSpan) botSpan = line("bot", "bot:", "");
      botSpan.textContent += ev.text; break;
    case "stop_playback": stopPlayback(); break;
    case "turn": botSpan = null; vb.turns.push(ev); addTurnColumn(ev); break;
    case "notice": line("notice", "", ev.message); break;
    case "error": line("error", "error:", ev.message); break;
  }
}

function ms(value) { return value === undefined || value === null ? "—" : `${Math.round(value * 1000)} ms`; }

function addTurnColumn(turn) {
  const table = $("latency");
  const names = Object.keys(vb.figures).filter((n) => n !== "e2e_latency").concat(["e2e_latency"]);
  const body = table.tBodies[0];
  if (body.rows.length === 0) {
    for (const name of names) {
      const row = body.insertRow();
      row.dataset.figure = name;
      if (name === "e2e_latency") row.className = "e2e";
      row.insertCell().textContent = vb.figures[name] || name;
    }
  }
  const th = document.createElement("th");
  th.textContent = `turn ${turn.index}` + (turn.status === "ok" ? "" : ` (${turn.status})`);
  table.tHead.rows[0].append(th);
  for (const row of body.rows) {
    row.insertCell().textContent = ms(turn.figures[row.dataset.figure]);
  }
}

function playPcm(buffer) {
  const ctx = vb.ctx;
  if (!ctx) return;
  vb.audioBytes += buffer.byteLength;
  const pcm = new Int16Array(buffer);
  const audio = ctx.createBuffer(1, pcm.length, vb.replyRate);
  const channel = audio.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 32768;
  const source = ctx.createBufferSource();
  source.buffer = audio;
  source.connect(ctx.destination);
  const at = Math.max(ctx.currentTime + 0.03, vb.nextTime);
  source.start(at);
  vb.nextTime = at + audio.duration;
  vb.playing.push(source);
  source.onended = () => { vb.playing = vb.playing.filter((s) => s !== source); };
}

function stopPlayback() {
  for (const source of vb.playing) { try { source.stop(); } catch (e) { /* ended */ } }
  vb.playing = []; vb.nextTime = 0;
}

async function start() {
  vb.state = "starting";
  $("talk").textContent = "Stop"; $("talk").classList.add("on");
  setStatus("asking for the microphone…");
  // Echo cancellation lets the bot's own voice be removed from the microphone, so
  // speaking over it (barge-in) works on open speakers.
  vb.stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  if (!vb.ctx) {
    vb.ctx = new AudioContext();
    await vb.ctx.audioWorklet.addModule("capture-worklet.js");
  }
  await vb.ctx.resume();
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = (vb.ws = new WebSocket(`${proto}//${location.host}/ws`));
  ws.binaryType = "arraybuffer";
  ws.onmessage = (m) => (typeof m.data === "string" ? onEvent(JSON.parse(m.data)) : playPcm(m.data));
  ws.onclose = (e) => { setStatus(`disconnected (${e.code}${e.reason ? ": " + e.reason : ""})`); stop(); };
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const mic = vb.ctx.createMediaStreamSource(vb.stream);
  vb.node = new AudioWorkletNode(vb.ctx, "capture-16k", {
    processorOptions: { targetRate: 16000, blockMs: 20 },
  });
  vb.node.port.onmessage = (e) => { if (ws.readyState === WebSocket.OPEN) ws.send(e.data); };
  mic.connect(vb.node);
  vb.node.connect(vb.ctx.destination); // the node outputs silence; this keeps it running
  vb.state = "talking";
}

function stop() {
  if (vb.state === "idle") return;
  vb.state = "idle";
  $("talk").textContent = "Start talking"; $("talk").classList.remove("on");
  if (vb.node) { vb.node.port.onmessage = null; vb.node.disconnect(); vb.node = null; }
  if (vb.stream) { vb.stream.getTracks().forEach((t) => t.stop()); vb.stream = null; }
  if (vb.ws && vb.ws.readyState <= WebSocket.OPEN) vb.ws.close(1000, "stopped by the user");
  // the AudioContext stays open so the rest of a reply can still play
}

$("talk").addEventListener("click", () => {
  if (vb.state === "idle") {
    start().catch((err) => { line("error", "error:", String(err)); setStatus("failed"); stop(); });
  } else {
    stop();
  }
});
