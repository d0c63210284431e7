// A moment as the page's language says it, in the site's time zone: "klo 10.00" when it is
// today there, "4. joulukuuta klo 10.00" on any other day (and with its year in another
// year). The words and the time's separator are texts (when.*), the names Intl's (CLDR).
import { say } from "./texts.js";

const dayIn = (moment, timeZone) => new Intl.DateTimeFormat("en-CA", { timeZone }).format(moment);

// The time of day alone, written as the public channels write it (the CLDR pattern of
// server/texts' clock.time: "07.24" in Finnish and Swedish, "07:24" in English).
export function timeOf(iso, texts, timeZone) {
  if (!iso) return "";
  const locale = texts["when.locale"] || "en-GB";
  const parts = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone })
    .formatToParts(new Date(iso));
  const separator = texts["when.time_separator"];
  return parts.map((part) => (part.type === "literal" && separator ? separator : part.value)).join("");
}

export function momentOf(iso, texts, timeZone, now = new Date()) {
  if (!iso) return "";
  const moment = new Date(iso);
  const locale = texts["when.locale"] || "en-GB";
  const time = timeOf(iso, texts, timeZone);
  if (dayIn(moment, timeZone) === dayIn(now, timeZone)) return say(texts, "when.today", { time });
  const sameYear = dayIn(moment, timeZone).slice(0, 4) === dayIn(now, timeZone).slice(0, 4);
  const date = new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", timeZone,
                                                ...(sameYear ? {} : { year: "numeric" }) }).format(moment);
  return say(texts, "when.other_day", { date, time });
}
