// The DOM helpers every screen uses.
export const $ = (id) => document.getElementById(id);

// element("button", { type: "button", textContent: "Go" }, child, "text", ...)
export function element(tag, properties = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

// Vibrate, if the browser lets this page yet: before the first tap Chrome refuses and logs an
// error (the alarm screen vibrates at that first tap instead: screens/alarm.js).
export function vibrate(pattern) {
  if (navigator.userActivation?.hasBeenActive === false) return;
  navigator.vibrate?.(pattern);
}
