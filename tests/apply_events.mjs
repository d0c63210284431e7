// The app's own rules applied in Node: `node apply_events.mjs <model.js>` reads {state, events,
// vocabulary} as JSON on stdin and prints the state after each event, as pwa/js/app.js applies
// them between two `state` messages (a redacted range only moves the sequence number on).
// Used by tests/test_model_js.py, which hands it a copy of pwa/js/ marked as ES modules.
import { pathToFileURL } from "node:url";

const { applyEvent } = await import(pathToFileURL(process.argv[2]).href);

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { state, events, vocabulary } = JSON.parse(input);
for (const event of events) {
  if (event.type === "redacted") state.seq = event.last_seq ?? event.seq;
  else applyEvent(state, event, vocabulary);
}
process.stdout.write(JSON.stringify(state));
