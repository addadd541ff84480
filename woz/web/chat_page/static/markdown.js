// A safe subset of Markdown, built as DOM nodes (never markup parsed as HTML):
// paragraphs, `#` headings, `-` and `1.` lists, **bold**, *italics*, `code`,
// and [links](https://...) that open in a new tab with rel="noopener noreferrer".
// Anything else, raw HTML included, stays visible as the text it is. Every
// pattern is a single pass over the text with no backtracking, so hostile
// input costs linear time.

const INLINE = /\*\*([^*\n]+)\*\*|\*([^*\n]+)\*|_([^_\n]+)_|`([^`\n]+)`|\[([^\]\n]+)\]\(([^()\s]+)\)/g;
const SAFE_LINK = /^(https?:|mailto:)/i;

/** Append `text`'s inline Markdown to `parent` as text nodes and elements. */
function appendInline(parent, text) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    parent.append(document.createTextNode(text.slice(last, match.index)));
    const [whole, bold, em1, em2, code, label, href] = match;
    let node;
    if (bold !== undefined) {
      node = document.createElement("strong");
      node.textContent = bold;
    } else if (em1 !== undefined || em2 !== undefined) {
      node = document.createElement("em");
      node.textContent = em1 ?? em2;
    } else if (code !== undefined) {
      node = document.createElement("code");
      node.textContent = code;
    } else if (SAFE_LINK.test(href)) {
      node = document.createElement("a");
      node.href = href;
      node.target = "_blank";
      node.rel = "noopener noreferrer";
      node.textContent = label;
    } else {
      node = document.createTextNode(whole);
    }
    parent.append(node);
    last = match.index + whole.length;
  }
  parent.append(document.createTextNode(text.slice(last)));
}

function listOf(lines) {
  const bullet = lines.every((line) => /^\s*[-*+]\s+/.test(line));
  const numbered = lines.every((line) => /^\s*\d{1,9}[.)]\s+/.test(line));
  if (!bullet && !numbered) return null;
  const list = document.createElement(bullet ? "ul" : "ol");
  for (const line of lines) {
    const item = document.createElement("li");
    appendInline(item, line.replace(/^\s*(?:[-*+]|\d{1,9}[.)])\s+/, ""));
    list.append(item);
  }
  return list;
}

/**
 * Render `text` into `container` (its children replaced). `breaks`: a single
 * newline inside a paragraph is a line break (chat answers) rather than a space
 * (a consent text wrapped in the study file).
 */
export function renderMarkdown(container, text, { breaks = false } = {}) {
  container.replaceChildren();
  for (const block of (text || "").split(/\n\s*\n/)) {
    const lines = block.split("\n").filter((line) => line.trim());
    if (!lines.length) continue;
    const heading = lines.length === 1 && /^(#{1,3})\s+(.*)$/.exec(lines[0].trim());
    if (heading) {
      const element = document.createElement(`h${heading[1].length + 2}`);
      appendInline(element, heading[2]);
      container.append(element);
      continue;
    }
    const list = listOf(lines);
    if (list) {
      container.append(list);
      continue;
    }
    const paragraph = document.createElement("p");
    lines.forEach((line, i) => {
      if (i > 0) paragraph.append(breaks ? document.createElement("br") : document.createTextNode(" "));
      appendInline(paragraph, line.trim());
    });
    container.append(paragraph);
  }
}
