// Long words at large type (the phone's font size at 200 %): a word wider than its box breaks
// at a syllable, with a hyphen, and is never cut off nor broken without one. A browser with
// hyphenation dictionaries does this itself (`hyphens: auto` and the document's `lang`); where
// it has none, a word still too wide gets soft hyphens here.
const SOFT_HYPHEN = "\u00ad";
const VOWELS = "aeiouyåäöéüæø";
// Consonants that begin a Swedish or English syllable together ("plats", "brott"): the break
// goes before them. Finnish breaks before the last consonant whatever comes before it.
const ONSETS = new Set(["bl", "br", "dr", "fl", "fr", "gl", "gr", "kl", "kr", "pl", "pr", "sk", "sl",
                        "sm", "sn", "sp", "st", "sv", "tr", "tv", "kv", "ch", "sh", "th"]);
const BOXES = "h1, h2, h3, p, li, button, label, summary, a, span, strong, ol, ul, div, "
  + "section, details, nav, fieldset";

const isVowel = (letter) => VOWELS.includes(letter.toLowerCase());
const isConsonant = (letter) => /\p{L}/u.test(letter) && !isVowel(letter);

// Soft hyphens at the syllable breaks of one word, two letters at least on each side.
export function hyphenate(word, lang) {
  const breaks = new Set();
  for (let i = 2; i <= word.length - 2; i++) {
    if (!isConsonant(word[i]) || !isVowel(word[i + 1])) continue;
    const onset = (word[i - 1] + word[i]).toLowerCase();
    const at = lang !== "fi" && ONSETS.has(onset) && isConsonant(word[i - 2]) ? i - 1 : i;
    if ([...word.slice(0, at)].some(isVowel)) breaks.add(at); // never "St-röm"
  }
  return [...word].map((letter, i) => (breaks.has(i) ? SOFT_HYPHEN : "") + letter).join("");
}

function overflows(box) {
  return box.scrollWidth > box.clientWidth + 1;
}

function textNodes(box) {
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  return nodes;
}

// The widest a line inside `element` can be: its content box, and no more than its parent
// leaves it (a button grows as wide as its longest word; the box it is in does not).
function limitOf(element, known) {
  if (known.has(element)) return known.get(element);
  const style = getComputedStyle(element);
  const px = (name) => parseFloat(style[name]) || 0;
  const padding = px("paddingLeft") + px("paddingRight");
  const around = padding + px("borderLeftWidth") + px("borderRightWidth") + px("marginLeft")
    + px("marginRight");
  const parent = element.parentElement;
  const fromParent = parent && style.position !== "fixed" ? limitOf(parent, known) - around : Infinity;
  const inline = style.display === "inline" || style.display === "contents";
  const own = inline ? Infinity : element.clientWidth - padding;
  const limit = Math.min(own > 0 ? own : Infinity, fromParent);
  known.set(element, limit);
  return limit;
}

// Soft hyphens in the words of `box` wider than the line they are on can be; the others wrap
// between words as usual.
function hyphenateWideWords(box, known) {
  const range = document.createRange();
  const lang = box.closest("[lang]")?.lang || document.documentElement.lang;
  for (const node of textNodes(box)) {
    if (node.parentElement.closest(".verbatim")) continue; // an address: breaks without hyphens
    const limit = limitOf(node.parentElement, known);
    const wide = [];
    // What cannot break now runs from space to space: "(valinnainen)" with its brackets.
    for (const run of node.data.matchAll(/\S+/gu)) {
      range.setStart(node, run.index);
      range.setEnd(node, run.index + run[0].length);
      if (range.getBoundingClientRect().width > limit + 0.5) wide.push(run);
    }
    for (const run of wide.reverse()) { // from the end, so the earlier indexes still hold
      const hyphenated = run[0].replace(/\p{L}{4,}/gu, (word) => hyphenate(word, lang));
      node.replaceData(run.index, run[0].length, hyphenated);
    }
  }
}

// Every visible box of `root` whose words make it wider than its content, or than the box it
// is in: hyphenate the words too wide; as a last resort (a word with no syllable to break at,
// a long number) let it break anywhere.
export function fitWords(root) {
  const tooWide = (box) => overflows(box)
    || (box.getBoundingClientRect().width > (box.parentElement?.clientWidth ?? Infinity) + 1
        && !["fixed", "absolute"].includes(getComputedStyle(box).position));
  // Decided again each time: the screen may be wider now (a screenshot, a turned phone).
  for (const box of root.querySelectorAll(".break-anywhere")) box.classList.remove("break-anywhere");
  const fitted = [];
  const known = new Map();
  for (const box of root.querySelectorAll(BOXES)) {
    // Hidden, only for screen readers, or fits.
    if (box.getClientRects().length === 0 || box.closest(".visually-hidden") || !tooWide(box)) continue;
    hyphenateWideWords(box, known);
    known.clear(); // the words changed: widths are measured again
    fitted.push(box);
  }
  // The innermost first: once it may break, the boxes around it fit again.
  for (const box of fitted.reverse()) if (tooWide(box)) box.classList.add("break-anywhere");
}

// Fit again after every change to the page, whoever made it (a screen drawn after a fetch, a
// confirmation panel), once per frame, and when the text size or the screen changes.
export function keepFitting(root) {
  let planned = false;
  const fitSoon = () => {
    if (planned) return;
    planned = true;
    requestAnimationFrame(() => {
      planned = false;
      fitWords(root);
    });
  };
  new MutationObserver(fitSoon).observe(root, { childList: true, subtree: true, characterData: true,
                                               attributes: true, attributeFilter: ["hidden"] });
  addEventListener("resize", fitSoon);
  new ResizeObserver(fitSoon).observe(root); // the text size setting changed, say
  fitSoon();
}
