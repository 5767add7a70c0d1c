// How a new handoff gets the agent's attention: a short Web Audio beep and/or a desktop notification.

let audio = null;

/** Create the audio context inside a user gesture (browsers refuse to start one otherwise). */
export function enableSound() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return false;
  if (!audio) audio = new Context();
  if (audio.state === "suspended") audio.resume();
  return true;
}

export function beep() {
  if (!audio) return;
  const now = audio.currentTime;
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.type = "sine";
  tone.frequency.setValueAtTime(880, now);
  tone.frequency.setValueAtTime(660, now + 0.12);
  gain.gain.setValueAtTime(0.0001, now);
  gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
  tone.connect(gain).connect(audio.destination);
  tone.start(now);
  tone.stop(now + 0.32);
}

export async function enableNotifications() {
  if (!("Notification" in window)) return false;
  if (Notification.permission === "granted") return true;
  if (Notification.permission === "denied") return false;
  return (await Notification.requestPermission()) === "granted";
}

export function notify(title, body) {
  if (!("Notification" in window) || Notification.permission !== "granted" || document.hasFocus()) return;
  try {
    const note = new Notification(title, { body, tag: "escalator-handoff" });
    note.onclick = () => { window.focus(); note.close(); };
  } catch (error) {
    // Some browsers only allow notifications from a service worker; the beep and the live region still work.
  }
}
