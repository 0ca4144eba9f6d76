// Coach demo client: camera + microphone to the server over WebRTC, messages on a data channel.
// No build step; protocol in docs/PROTOCOL.md. `window.coachState` is read by the browser tests.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const token = params.get("token");
// Tests feed synthetic speech; the browser's echo cancellation would clip it. People keep it on.
const rawAudio = params.get("raw_audio") === "1";

// COCO-17 skeleton edges (pairs of keypoint indices).
const EDGES = [[5, 7], [7, 9], [6, 8], [8, 10], [5, 6], [5, 11], [6, 12], [11, 12], [11, 13], [13, 15],
               [12, 14], [14, 16], [0, 1], [0, 2], [1, 3], [2, 4]];

const state = window.coachState = {
  connection: "idle", sessionId: null, messages: 0, types: {}, lastPose: null, reps: 0,
  transcripts: [], replies: {}, errors: [], notes: [],
  spokenTurns: [], answerTurn: null, heard: [],  // voice-to-voice as this page measured it (below)
};

let pc = null, channel = null, localStream = null, guidanceTimer = null, faultTimer = null, voiceMeter = null;

function authHeaders() { return token ? { Authorization: `Bearer ${token}` } : {}; }

function showError(text) {
  const el = $("error");
  el.textContent = text;
  el.hidden = !text;
  if (text) state.errors.push(text);
}

function setConnection(s, label) {
  state.connection = s;
  $("conn").dataset.state = s;
  $("conn").textContent = label || s;
}

function setModels(models) {
  const el = $("models");
  el.replaceChildren(...Object.entries(models || {}).map(([family, st]) => {
    const span = document.createElement("span");
    span.textContent = ` ${family}${st === "ready" ? "" : ": " + st}`;
    if (st !== "ready") span.className = "off";
    return span;
  }));
}

function send(msg) {
  if (channel && channel.readyState === "open") channel.send(JSON.stringify(msg));
}

// ------------------------------------------------------------------ connecting

async function start() {
  showError("");
  $("start").disabled = true;
  setConnection("connecting", "starting camera…");
  try {
    localStream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
      audio: { echoCancellation: !rawAudio, noiseSuppression: !rawAudio, autoGainControl: !rawAudio },
    });
  } catch (err) {
    const why = err.name === "NotAllowedError" ? "Camera and microphone permission was refused. Allow them in the " +
        "browser's site settings, then press Start again."
      : err.name === "NotFoundError" ? "No camera or microphone was found on this device."
      : `Could not open camera or microphone: ${err.message}`;
    showError(why);
    setConnection("failed", "no camera");
    $("start").disabled = false;
    return;
  }
  $("preview").srcObject = localStream;

  let config;
  try {
    const r = await fetch("/config", { headers: authHeaders() });
    config = await r.json();
  } catch (err) {
    return fail("The coaching server cannot be reached. Is it running?");
  }
  pc = new RTCPeerConnection({ iceServers: config.iceServers || [] });
  localStream.getTracks().forEach((t) => pc.addTrack(t, localStream));
  pc.ontrack = (ev) => {
    if (ev.track.kind !== "audio") return;
    const reply = new MediaStream([ev.track]);
    $("reply").srcObject = reply;
    voiceMeter = startVoiceMeter(localStream, reply);
  };
  pc.onconnectionstatechange = () => {
    const s = pc && pc.connectionState;
    if (s === "connected") setConnection("connected", "connected");
    else if (s === "failed" || s === "disconnected") fail("The connection to the coach was lost.");
  };
  channel = pc.createDataChannel("coach");
  channel.onopen = () => { $("chat-text").disabled = false; $("chat-send").disabled = false; sendPreferences(); };
  channel.onmessage = (ev) => onMessage(JSON.parse(ev.data));

  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringComplete(pc);
  let answer;
  try {
    const r = await fetch("/offer", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer" }),
    });
    answer = await r.json();
    if (!r.ok) return fail(`The server refused the session: ${answer.error || r.status}`);
  } catch (err) {
    return fail("The coaching server cannot be reached. Is it running?");
  }
  state.sessionId = answer.session_id;
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  $("stop").disabled = false;
}

function iceGatheringComplete(peer) {
  if (peer.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (peer.iceGatheringState === "complete") resolve(); };
    peer.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);  // answer with what we have rather than hang
  });
}

function fail(text) {
  showError(text);
  stop("failed");
}

function stop(finalState = "idle") {
  if (voiceMeter) { voiceMeter(); voiceMeter = null; }
  if (pc) { pc.close(); pc = null; }
  channel = null;
  if (localStream) { localStream.getTracks().forEach((t) => t.stop()); localStream = null; }
  $("preview").srcObject = null;
  setConnection(finalState, finalState === "failed" ? "disconnected" : "not connected");
  $("start").disabled = false;
  $("stop").disabled = true;
  $("chat-text").disabled = true;
  $("chat-send").disabled = true;
  clearOverlay();
}

function sendPreferences() {
  send({ type: "settings", voice: $("voice").checked, cue_verbosity: $("verbosity").value });
  const ex = $("exercise").value;
  if (ex !== "auto") send({ type: "exercise", exercise: ex });
}

// ------------------------------------------------------------------ messages

function onMessage(msg) {
  state.messages += 1;
  state.types[msg.type] = (state.types[msg.type] || 0) + 1;
  switch (msg.type) {
    case "hello": onHello(msg); break;
    case "pose": state.lastPose = msg; drawPose(msg); break;
    case "event": onEvent(msg.event); break;
    case "transcript": onTranscript(msg); break;
    case "reply": onReply(msg); break;
    case "status": onStatus(msg); break;
    case "error": showError(msg.message); break;
    case "voice_state": onVoiceState(msg); break;
    default: break;
  }
}

// Who has the floor: the person (speaking, or pausing mid-turn), or the coach (thinking, speaking).
function onVoiceState(msg) {
  const badge = $("voice-state");
  const [s, label] = msg.listener === "speaking" ? ["listening", "listening…"]
    : msg.listener === "paused" ? ["listening", "listening (pause)…"]
    : msg.reply === "thinking" ? ["thinking", "thinking…"]
    : msg.reply === "speaking" ? ["speaking", "coach speaking"]
    : ["idle", ""];
  badge.dataset.state = s;
  badge.textContent = label;
  badge.hidden = s === "idle";
}

function onHello(msg) {
  state.sessionId = msg.session_id;
  setModels(msg.models);
  const select = $("exercise");
  const chosen = select.value;
  select.replaceChildren(new Option("Recognise for me", "auto"),
    ...msg.exercises.map((e) => new Option(e.replace(/_/g, " "), e)));
  select.value = chosen;
}

function onEvent(ev) {
  switch (ev.type) {
    case "exercise_changed": $("stat-exercise").textContent = (ev.exercise || "–").replace(/_/g, " ");
      $("stat-reps").textContent = "0"; break;
    case "phase_changed": $("stat-phase").textContent = ev.phase; break;
    case "rep_completed": state.reps = ev.rep; $("stat-reps").textContent = String(ev.rep); break;
    case "hold_progress": $("stat-reps").textContent = `${Math.round(ev.seconds)} s`; break;
    case "fault_detected": flash($("fault"), ev.cue, 4000, "fault"); break;
    case "guidance": flash($("guidance"), ev.message, 4000, "guidance"); break;
    default: break;
  }
}

function flash(el, text, ms, which) {
  el.textContent = text;
  el.hidden = false;
  const timer = which === "fault" ? faultTimer : guidanceTimer;
  clearTimeout(timer);
  const t = setTimeout(() => { el.hidden = true; }, ms);
  if (which === "fault") faultTimer = t; else guidanceTimer = t;
}

function transcriptLine(id, cls) {
  let li = document.getElementById(id);
  if (!li) {
    li = document.createElement("li");
    li.id = id;
    li.className = cls;
    $("transcript").appendChild(li);
  }
  return li;
}

// Model states update the badges; a status with words for the person (the pose model unavailable,
// the language a reply comes in) goes into the conversation as a note. The rest echo what the page set.
const NOTE_STATES = new Set(["pose", "language"]);

function onStatus(msg) {
  if (msg.models) setModels(msg.models);
  if (!NOTE_STATES.has(msg.state) || !msg.message) return;
  state.notes.push(msg.message);
  const li = transcriptLine(`note-${state.notes.length}`, "note");
  li.textContent = msg.message;
  li.scrollIntoView({ block: "end" });
}

function onTranscript(msg) {
  if (!state.spokenTurns.includes(msg.turn)) state.spokenTurns.push(msg.turn);
  const li = transcriptLine(`user-${msg.turn}`, "user");
  li.textContent = msg.text;
  li.classList.toggle("partial", !msg.final);
  if (msg.final) state.transcripts.push(msg.text);
  li.scrollIntoView({ block: "end" });
}

function onReply(msg) {
  const key = `${msg.kind}-${msg.turn}`;
  if (msg.kind === "answer" && state.spokenTurns.includes(msg.turn)) state.answerTurn = msg.turn;
  const li = transcriptLine(`coach-${key}`, "coach");
  state.replies[key] = (state.replies[key] || "") + msg.delta;
  li.textContent = state.replies[key] + (msg.interrupted ? " …" : "");
  if (msg.done && msg.citations && msg.citations.length) {
    const src = document.createElement("div");
    src.className = "sources";
    src.textContent = "Sources: " + msg.citations.map((c) => c.title).join("; ");
    li.appendChild(src);
  }
  li.scrollIntoView({ block: "end" });
}

// ------------------------------------------------------------------ what the person lives through

// Voice-to-voice as the person experiences it: from the end of their speech (the last loud moment
// of this microphone) to the first audible sample of the coach's spoken answer (this page's
// speaker), for each answered spoken question. Reported to the server (`heard`), which keeps it in
// /metrics as coach_voice_to_voice_client_seconds. Returns the function that stops the meter.
const METER = { speechRms: 0.02, replyRms: 0.01, quietBeforeReplyMs: 400, longestMs: 20000 };

function startVoiceMeter(micStream, replyStream) {
  const ctx = new AudioContext();
  const analyser = (stream) => {
    const a = ctx.createAnalyser();
    ctx.createMediaStreamSource(stream).connect(a);
    return a;
  };
  const mic = analyser(micStream), reply = analyser(replyStream);
  const buf = new Float32Array(mic.fftSize);
  const rms = (a) => {
    a.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    return Math.sqrt(sum / buf.length);
  };
  let lastSpeech = null, replyQuietSince = performance.now();
  const reported = new Set();
  const timer = setInterval(() => {
    const now = performance.now();
    if (rms(mic) > METER.speechRms) lastSpeech = now;
    if (rms(reply) <= METER.replyRms) {
      if (replyQuietSince === null) replyQuietSince = now;
      return;
    }
    const onset = replyQuietSince !== null && now - replyQuietSince >= METER.quietBeforeReplyMs;
    replyQuietSince = null;
    const turn = state.answerTurn;
    if (!onset || turn === null || reported.has(turn) || lastSpeech === null) return;
    const ms = Math.round(now - lastSpeech);
    if (ms > METER.longestMs) return;
    reported.add(turn);
    state.heard.push({ turn, ms });
    send({ type: "heard", turn, voice_to_voice_ms: ms });
  }, 10);
  return () => { clearInterval(timer); ctx.close(); };
}

// ------------------------------------------------------------------ overlay

function videoRect() {
  // Where the video is drawn inside its element (object-fit: contain letterboxes it).
  const v = $("preview"), cw = v.clientWidth, ch = v.clientHeight;
  const vw = v.videoWidth || 4, vh = v.videoHeight || 3;
  const scale = Math.min(cw / vw, ch / vh);
  return { x: (cw - vw * scale) / 2, y: (ch - vh * scale) / 2, w: vw * scale, h: vh * scale };
}

function clearOverlay() {
  const c = $("overlay");
  c.getContext("2d").clearRect(0, 0, c.width, c.height);
}

function drawPose(msg) {
  const c = $("overlay"), v = $("preview");
  if (c.width !== v.clientWidth || c.height !== v.clientHeight) { c.width = v.clientWidth; c.height = v.clientHeight; }
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  if (!msg.keypoints) return;
  const r = videoRect();
  const pt = (k) => [r.x + k[0] * r.w, r.y + k[1] * r.h];
  g.lineWidth = 4;
  g.strokeStyle = "#3ddc97";
  for (const [a, b] of EDGES) {
    const ka = msg.keypoints[a], kb = msg.keypoints[b];
    if (ka[2] < 0.3 || kb[2] < 0.3) continue;
    const [x1, y1] = pt(ka), [x2, y2] = pt(kb);
    g.beginPath(); g.moveTo(x1, y1); g.lineTo(x2, y2); g.stroke();
  }
  g.fillStyle = "#ffffff";
  for (const k of msg.keypoints) {
    if (k[2] < 0.3) continue;
    const [x, y] = pt(k);
    g.beginPath(); g.arc(x, y, 4, 0, 2 * Math.PI); g.fill();
  }
}

// ------------------------------------------------------------------ controls

$("start").addEventListener("click", start);
$("stop").addEventListener("click", () => stop());
$("exercise").addEventListener("change", () => send({ type: "exercise", exercise: $("exercise").value }));
$("voice").addEventListener("change", sendPreferences);
$("verbosity").addEventListener("change", sendPreferences);
$("chat").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("chat-text").value.trim();
  if (!text) return;
  send({ type: "chat", text });
  const li = document.createElement("li");
  li.className = "user";
  li.textContent = text;
  $("transcript").appendChild(li);
  $("chat-text").value = "";
});
if (params.get("autostart") === "1") start();
