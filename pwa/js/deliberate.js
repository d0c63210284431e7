// Starting and ending an alarm take two deliberate taps. The first only arms a choice; the
// second is on a control that never lies where the first tap landed: a panel fixed in the
// other half of the screen (nothing scrolls, so a quick second tap at the same spot meets the
// same button, not the confirmation). An armed choice disarms by itself after a few seconds.
import { $ } from "./dom.js";
import { sayCount } from "./texts.js";

export const ARMED_SECONDS = 8;

export class Arming {
  // panel: the element id of the confirmation panel; render(value) draws the rest of the
  // screen for an armed value (or null).
  constructor(app, panel, render) {
    this.app = app;
    this.panel = $(panel);
    this.countdown = this.panel.querySelector(".countdown");
    this.render = render;
    this.value = null;
    this.timer = null;
    // Any touch inside the panel (reading, the drill switch) gives the person time again.
    this.panel.addEventListener("pointerdown", () => this.touch());
    this.panel.addEventListener("change", () => this.touch());
  }

  // `event`: the arming tap, whose point the panel keeps clear of.
  arm(value, event) {
    const y = event?.clientY ?? 0;
    this.panel.classList.toggle("at-top", y > innerHeight / 2);
    this.value = value;
    this.touch();
    this.panel.hidden = false;
    this.render(value);
    this.panel.focus({ preventScroll: true }); // screen readers read what the panel asks
    this.timer ??= setInterval(() => this.tick(), 250);
  }

  touch() {
    this.until = Date.now() + ARMED_SECONDS * 1000;
    this.tick();
  }

  tick() {
    if (this.value === null) return;
    const left = Math.ceil((this.until - Date.now()) / 1000);
    if (left <= 0) return this.disarm();
    const { texts, lang } = this.app;
    this.countdown.textContent = sayCount(texts, lang, "console.disarms", left);
  }

  disarm() {
    clearInterval(this.timer);
    this.timer = null;
    this.value = null;
    this.panel.hidden = true;
    this.render(null);
  }

  // The armed value, once: confirming disarms.
  take() {
    const value = this.value;
    this.disarm();
    return value;
  }
}
