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
const BOXES = "h1, h2, p, li, button, label, summary, a, span, strong, ol, ul, div";

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

// Every visible box of `root` whose words are wider than it: hyphenate them; as a last resort
// (a word with no syllable to break at, a long number) let it break anywhere.
export function fitWords(root) {
  for (const box of root.querySelectorAll(BOXES)) {
    if (box.getClientRects().length === 0 || !overflows(box)) continue; // hidden, or fits
    const lang = box.closest("[lang]")?.lang || document.documentElement.lang;
    for (const node of textNodes(box)) {
      const hyphenated = node.data.replace(/\p{L}{6,}/gu, (word) => hyphenate(word, lang));
      if (hyphenated !== node.data) node.data = hyphenated;
    }
    if (overflows(box)) box.classList.add("break-anywhere");
  }
}
