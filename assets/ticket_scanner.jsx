// Ticket scanner for the check-in page: html5-qrcode (camera, and photos of tickets) wrapped as
// a React component. Reflex wraps this file (crm_booking/components/ticket_scanner.py) and
// receives each decoded text through onScan; the server decides what the code means.
import { useEffect, useRef, useState } from "react";
import { Html5Qrcode } from "html5-qrcode";

// The same code read again within this window is one scan (a camera sees a QR many times
// a second while it is held up).
const REPEAT_WINDOW_MS = 3000;

const BUTTON = {
  display: "inline-block", background: "#0b5d55", color: "#ffffff", border: "none",
  padding: "0.6rem 1rem", borderRadius: "6px", fontWeight: 600, font: "inherit",
  cursor: "pointer", minHeight: "2.75rem",
};
// Hidden from sight but not from the keyboard or screen readers; its label is the button.
const VISUALLY_HIDDEN = {
  position: "absolute", width: "1px", height: "1px", padding: 0, margin: "-1px",
  overflow: "hidden", clip: "rect(0, 0, 0, 0)", whiteSpace: "nowrap", border: 0,
};

export function TicketScanner({ onScan, viewId = "ticket-scanner-view" }) {
  const scanner = useRef(null);
  const last = useRef({ text: "", at: 0 });
  const [running, setRunning] = useState(false);
  const [problem, setProblem] = useState("");
  const [photoFocus, setPhotoFocus] = useState(false);

  const scanner_ = () => {
    if (scanner.current === null) {
      scanner.current = new Html5Qrcode(viewId, { verbose: false });
    }
    return scanner.current;
  };

  const report = (text) => {
    const now = Date.now();
    if (text === last.current.text && now - last.current.at < REPEAT_WINDOW_MS) return;
    last.current = { text, at: now };
    if (onScan) onScan(text);
  };

  const stop = async () => {
    if (scanner.current && scanner.current.isScanning) {
      await scanner.current.stop();
    }
    setRunning(false);
  };

  const start = async () => {
    setProblem("");
    try {
      await scanner_().start(
        { facingMode: "environment" },
        { fps: 10, qrbox: { width: 220, height: 220 } },
        report,
        () => {},
      );
      setRunning(true);
    } catch (error) {
      setProblem("The camera could not be started: " + String(error) +
                  ". Type the code, or scan a photo of the ticket.");
      setRunning(false);
    }
  };

  const scanPhoto = async (event) => {
    const file = event.target.files && event.target.files[0];
    event.target.value = "";
    if (!file) return;
    setProblem("");
    try {
      if (scanner.current && scanner.current.isScanning) await stop();
      const text = await scanner_().scanFile(file, false);
      last.current = { text: "", at: 0 };  // a photo is always a deliberate scan
      report(text);
    } catch (error) {
      setProblem("No QR code found in that picture. Try again, or type the code.");
    }
  };

  useEffect(() => () => {
    if (scanner.current && scanner.current.isScanning) scanner.current.stop().catch(() => {});
  }, []);

  return (
    <div className="ticket-scanner">
      <div id={viewId} style={{ width: "100%", maxWidth: "22rem" }} />
      <div style={{ display: "flex", gap: "0.75rem", flexWrap: "wrap", alignItems: "center",
                    marginTop: "0.5rem" }}>
        <button type="button" style={BUTTON} id="scanner-toggle"
                onClick={running ? stop : start} aria-pressed={running}>
          {running ? "Stop camera" : "Scan with camera"}
        </button>
        <input id="ticket-photo" type="file" accept="image/*"
               onChange={scanPhoto} style={VISUALLY_HIDDEN}
               onFocus={() => setPhotoFocus(true)} onBlur={() => setPhotoFocus(false)} />
        <label htmlFor="ticket-photo"
               style={{ ...BUTTON, outline: photoFocus ? "3px solid #0b5d55" : "none",
                        outlineOffset: "2px" }}>
          Scan a photo of a ticket
        </label>
      </div>
      {problem ? <p role="alert" style={{ color: "#b42318", fontWeight: 500 }}>{problem}</p> : null}
    </div>
  );
}
