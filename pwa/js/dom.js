// The two DOM helpers every screen uses.
export const $ = (id) => document.getElementById(id);

// element("button", { type: "button", textContent: "Go" }, child, "text", ...)
export function element(tag, properties = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}
