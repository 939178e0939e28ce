// safe.js: the one place that decides which URLs survive and turns markdown into sanitised HTML.
// Links: http, https, mailto. Images: http, https, data:image (raster types), and our own
// /api/v1/images/ paths. Everything user-controlled goes through markdown-it (raw HTML off) and
// then DOMPurify with the hooks below; callers put only this output into innerHTML.
import MarkdownIt from "markdown-it";
import DOMPurify from "dompurify";

const LINK_RE = /^(https?:\/\/|mailto:)/i;
const IMG_RE = /^(https?:\/\/|data:image\/(png|jpeg|jpg|gif|webp);base64,[A-Za-z0-9+/=\s]*$)/i;

export const isSafeLink = (u) => typeof u === "string" && LINK_RE.test(u.trim());
export const isSafeImage = (u) =>
  typeof u === "string" && (IMG_RE.test(u.trim()) || /^\/api\/v1\/images\/[A-Za-z0-9_-]+$/.test(u));

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.validateLink = (url) => isSafeLink(url) || IMG_RE.test(url.trim());

const ALLOWED_TAGS = ["p", "br", "strong", "b", "em", "i", "u", "s", "del", "code", "pre",
  "blockquote", "ul", "ol", "li", "a", "img", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
  "table", "thead", "tbody", "tr", "th", "td", "span"];
const ALLOWED_ATTR = ["href", "src", "alt", "title", "start"];

let hooked = false;
function hook() {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("uponSanitizeAttribute", (node, data) => {
    if (data.attrName.startsWith("on") || data.attrName === "style") data.keepAttr = false;
  });
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName === "A") {
      const href = node.getAttribute("href");
      if (href != null && !isSafeLink(href)) node.removeAttribute("href");
      if (node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    } else if (node.nodeName === "IMG") {
      const src = node.getAttribute("src");
      if (src == null || !isSafeImage(src)) node.removeAttribute("src");
      node.setAttribute("loading", "lazy");
      node.setAttribute("referrerpolicy", "no-referrer");
    }
  });
}

/** Sanitises an HTML string (already produced by markdown-it) for innerHTML. */
export function purify(html) {
  hook();
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ADD_URI_SAFE_ATTR: ["start"], // a list's first number is not a URL (else ALLOWED_URI_REGEXP drops it)
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|data:image\/(?:png|jpe?g|gif|webp);base64,)/i,
  });
}

/** Markdown (CommonMark + linkify, no raw HTML) to sanitised HTML. */
export function markdown(text) {
  return purify(md.render(String(text ?? "")));
}

/** Removes anything unsafe from a DOM subtree the card renderer built (defence in depth). */
export function sweep(root) {
  const bad = root.querySelectorAll("script,iframe,object,embed,frame,frameset,form,svg,math,style,link,meta,base");
  bad.forEach((n) => n.remove());
  root.querySelectorAll("*").forEach((el) => {
    for (const a of Array.from(el.attributes)) {
      if (/^on/i.test(a.name) || a.name === "srcdoc" || a.name === "formaction") el.removeAttribute(a.name);
    }
    if (el.tagName === "A") {
      const href = el.getAttribute("href");
      if (href != null && href !== "" && !isSafeLink(href)) el.removeAttribute("href");
      if (href === "") el.removeAttribute("href");
      el.setAttribute("rel", "noopener noreferrer");
    }
    if (el.tagName === "IMG") {
      const src = el.getAttribute("src");
      if (src != null && !isSafeImage(src)) el.removeAttribute("src");
      el.setAttribute("referrerpolicy", "no-referrer");
    }
  });
}

/** Opens a link in a new tab without giving it our window, only for http(s)/mailto. */
export function openLink(url) {
  if (!isSafeLink(url)) return false;
  const a = document.createElement("a");
  a.href = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.click();
  return true;
}
