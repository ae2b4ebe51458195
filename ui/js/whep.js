// A WHEP client (RFC 9725) for MediaMTX's WebRTC endpoint: receive-only video and audio, the offer sent with its
// ICE candidates (no trickle), the 201 answer's SDP as the remote description.

/** Plays `url` in `video`; resolves to a function that ends the session, or rejects with a readable reason. */
export async function playWHEP(url, video) {
  const peer = new RTCPeerConnection();
  try {
    peer.addTransceiver("video", { direction: "recvonly" });
    peer.addTransceiver("audio", { direction: "recvonly" });
    peer.addEventListener("track", (event) => { video.srcObject = event.streams[0] || new MediaStream([event.track]); });
    await peer.setLocalDescription(await peer.createOffer());
    await gathered(peer, 3000);
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp" }, body: peer.localDescription.sdp });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`HTTP ${response.status}${reason(text)}`);
    await peer.setRemoteDescription({ type: "answer", sdp: text });
    const session = response.headers.get("Location");
    return () => {
      peer.close();
      video.srcObject = null;
      if (session) fetch(new URL(session, url), { method: "DELETE" }).catch(() => {});
    };
  } catch (error) {
    peer.close();
    throw error;
  }
}

/** Waits until ICE gathering is complete, at most `ms`. */
function gathered(peer, ms) {
  return new Promise((resolve) => {
    if (peer.iceGatheringState === "complete") return resolve();
    const done = () => { if (peer.iceGatheringState === "complete") resolve(); };
    peer.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

/** MediaMTX's error body ({"error": "..."}) or the text, as ": reason". */
function reason(text) {
  let message = text.slice(0, 200);
  try { message = JSON.parse(text).error || message; } catch { /* not JSON: the text itself */ }
  return message ? `: ${message}` : "";
}
