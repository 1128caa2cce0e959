// voicebot page: microphone -> /ws (16 kHz s16le) ; events and reply audio <- /ws.
// The protocol is in docs/serve.md. The page says its audio is a live microphone ("live"),
// so the server cancels the bot's voice from it and the user can speak over a reply: the
// server then pauses the reply here (pause_playback), resumes it or stops it. Replies play
// in an AudioContext of their own, so pausing it holds exactly what was not yet heard
// while the microphone's context keeps capturing. State is kept on window.voicebot so a
// test driving the page over the DevTools protocol can read it.
//
// ?echo_db=0&echo_ms=100 adds a simulated echo path (tests, demos): the reply, delayed and
// at that level, is mixed into what the microphone sends, as an open speaker would be
// heard; vb.inject(url) mixes a recording in as if the user said it.
"use strict";

const vb = (window.voicebot = {
  ws: null, ctx: null, playCtx: null, stream: null, node: null,
  replyRate: 22050, nextTime: 0, playing: [], figures: {},
  turns: [], events: [], log: [], audioBytes: 0, state: "idle", phase: "idle", level: -100,
});
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

function setStatus(text) { $("status").textContent = text; }

// listening, thinking, speaking, paused, interrupted: what the conversation is doing
function setPhase(phase) {
  vb.phase = phase;
  const el = $("phase");
  el.textContent = phase; el.className = phase;
}

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
  vb.log.push([performance.now(), ev.type]);
  switch (ev.type) {
    case "ready":
      vb.replyRate = ev.sample_rate; vb.figures = ev.figures; vb.session = ev.session;
      setStatus("connected — speak, then pause; speak over the bot to interrupt it");
      setPhase("listening"); break;
    case "partial": {
      const p = $("partial");
      p.textContent = ev.committed + " ";
      const tail = document.createElement("span");
      tail.className = "tail"; tail.textContent = ev.partial; p.append(tail);
      break;
    }
    case "final":
      $("partial").textContent = ""; line("you", "you:", ev.text); botSpan = null;
      setPhase("thinking"); break;
    case "reply_text":
      if (!botSpan) botSpan = line("bot", "bot:", "");
      botSpan.textContent += ev.text; break;
    case "stop_playback": stopPlayback(); setPhase("interrupted"); break;
    case "pause_playback": if (vb.playCtx) vb.playCtx.suspend(); setPhase("paused"); break;
    case "resume_playback": if (vb.playCtx) vb.playCtx.resume(); setPhase("speaking"); break;
    case "turn":
      botSpan = null; vb.turns.push(ev); addTurnColumn(ev);
      if (vb.phase !== "interrupted") setPhase("listening");
      break;
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
  const ctx = vb.playCtx;
  if (!ctx) return;
  vb.audioBytes += buffer.byteLength;
  vb.log.push([performance.now(), "audio"]);
  if (vb.phase !== "paused") setPhase("speaking");
  const pcm = new Int16Array(buffer);
  const audio = ctx.createBuffer(1, pcm.length, vb.replyRate);
  const channel = audio.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 32768;
  const source = ctx.createBufferSource();
  source.buffer = audio;
  source.connect(vb.replyBus);
  const at = Math.max(ctx.currentTime + 0.03, vb.nextTime);
  source.start(at);
  vb.nextTime = at + audio.duration;
  vb.playing.push(source);
  source.onended = () => { vb.playing = vb.playing.filter((s) => s !== source); };
}

function stopPlayback() {
  for (const source of vb.playing) { try { source.stop(); } catch (e) { /* ended */ } }
  vb.playing = []; vb.nextTime = 0;
  if (vb.playCtx && vb.playCtx.state === "suspended") vb.playCtx.resume();
}

// The microphone's level, for the meter: RMS of the last analyser window, in dBFS.
function meter(analyser) {
  const data = new Float32Array(analyser.fftSize);
  const tick = () => {
    if (!vb.node) return;
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const x of data) sum += x * x;
    vb.level = 10 * Math.log10(sum / data.length + 1e-10);
    $("level").style.width = `${Math.max(0, Math.min(100, (vb.level + 60) * 100 / 60))}%`;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

// ?echo_db, ?echo_ms: the reply fed back into what the microphone sends (see the top).
function simulatedEcho(into) {
  if (!params.has("echo_db")) return;
  const echoDb = Number(params.get("echo_db"));
  const echoMs = Number(params.get("echo_ms") || 100);
  const tap = vb.playCtx.createMediaStreamDestination();
  vb.replyBus.connect(tap);
  const back = vb.ctx.createMediaStreamSource(tap.stream);
  const delay = vb.ctx.createDelay(1.0);
  delay.delayTime.value = echoMs / 1000;
  const gain = vb.ctx.createGain();
  gain.gain.value = Math.pow(10, echoDb / 20);
  back.connect(delay).connect(gain).connect(into);
}

// A recording mixed into what the microphone sends, as if the user said it now; resolves
// with the performance.now() at which it started.
vb.inject = async (url) => {
  const data = await (await fetch(url)).arrayBuffer();
  const audio = await vb.ctx.decodeAudioData(data);
  const source = vb.ctx.createBufferSource();
  source.buffer = audio;
  source.connect(vb.node);
  source.start();
  const at = performance.now();
  vb.log.push([at, "inject"]);
  return at;
};

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
    vb.playCtx = new AudioContext();
    vb.replyBus = vb.playCtx.createGain();
    vb.replyBus.connect(vb.playCtx.destination);
  }
  await vb.ctx.resume();
  await vb.playCtx.resume();
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = (vb.ws = new WebSocket(`${proto}//${location.host}/ws`));
  ws.binaryType = "arraybuffer";
  ws.onmessage = (m) => (typeof m.data === "string" ? onEvent(JSON.parse(m.data)) : playPcm(m.data));
  ws.onclose = (e) => { setStatus(`disconnected (${e.code}${e.reason ? ": " + e.reason : ""})`); stop(); };
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  ws.send(JSON.stringify({ type: "live" })); // a microphone beside the speaker: full duplex
  const mic = vb.ctx.createMediaStreamSource(vb.stream);
  vb.node = new AudioWorkletNode(vb.ctx, "capture-16k", {
    processorOptions: { targetRate: 16000, blockMs: 20 },
  });
  vb.node.port.onmessage = (e) => { if (ws.readyState === WebSocket.OPEN) ws.send(e.data); };
  mic.connect(vb.node);
  const analyser = vb.ctx.createAnalyser();
  analyser.fftSize = 1024;
  mic.connect(analyser);
  simulatedEcho(vb.node);
  vb.node.connect(vb.ctx.destination); // the node outputs silence; this keeps it running
  vb.state = "talking";
  meter(analyser);
}

function stop() {
  if (vb.state === "idle") return;
  vb.state = "idle";
  setPhase("idle");
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
