// card.jsx: renders a canonical card (Message.card = {envelope, content}) with the adaptivecards
// library inside a frame that shows the sender, "via" and the theme colour. Text markdown goes
// through markdown-it + DOMPurify (safe.js); the rendered tree is swept once more before it is
// attached; Action.OpenUrl opens http(s)/mailto links in a new tab, nothing else.
import { useEffect, useRef } from "preact/hooks";
import * as AC from "adaptivecards";
import { markdown, sweep, openLink, isSafeImage } from "./safe.js";
import { Avatar } from "./ui.jsx";

AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = markdown(text);
  result.didProcess = true;
};
AC.GlobalSettings.allowMarkForTextHighlighting = false;
AC.GlobalSettings.setTabIndexAtCardRoot = false;

const FONT = '"Segoe UI", system-ui, -apple-system, "Helvetica Neue", Arial, sans-serif';

// Text colours, the same on plain and emphasis containers (Teams' palette).
const FOREGROUND = {
  default: { default: "#242424", subtle: "#616161" },
  dark: { default: "#252424", subtle: "#484644" },
  light: { default: "#FFFFFF", subtle: "#F3F2F1" },
  accent: { default: "#5B5FC7", subtle: "#6264A7" },
  good: { default: "#0E700E", subtle: "#1A8A1A" },
  warning: { default: "#835B00", subtle: "#A87400" },
  attention: { default: "#C4314B", subtle: "#D13438" },
};

// A host config resembling Microsoft Teams' light theme.
export const hostConfig = new AC.HostConfig({
  supportsInteractivity: true,
  fontFamily: FONT,
  spacing: { small: 4, default: 8, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  separator: { lineThickness: 1, lineColor: "#E0E0E0" },
  fontSizes: { small: 12, default: 14, medium: 16, large: 18, extraLarge: 24 },
  fontWeights: { lighter: 300, default: 400, bolder: 600 },
  imageSizes: { small: 32, medium: 52, large: 100 },
  containerStyles: {
    default: {
      backgroundColor: "#FFFFFF",
      foregroundColors: FOREGROUND,
    },
    emphasis: {
      backgroundColor: "#F5F5F5",
      foregroundColors: FOREGROUND,
    },
    good: { backgroundColor: "#E7F2DA" },
    attention: { backgroundColor: "#FCF4F6" },
    warning: { backgroundColor: "#FBF6D9" },
    accent: { backgroundColor: "#E8EBFA" },
  },
  actions: {
    maxActions: 6,
    spacing: "default",
    buttonSpacing: 8,
    showCard: { actionMode: "inline", inlineTopMargin: 16, style: "emphasis" },
    actionsOrientation: "horizontal",
    actionAlignment: "left",
    iconPlacement: "leftOfTitle",
    iconSize: 16,
  },
  adaptiveCard: { allowCustomStyle: true },
  factSet: {
    title: { color: "default", size: "default", isSubtle: false, weight: "bolder", wrap: true, maxWidth: 160 },
    value: { color: "default", size: "default", isSubtle: false, weight: "default", wrap: true },
    spacing: 8,
  },
  textBlock: { headingLevel: 2 },
});

function renderContent(content) {
  const card = new AC.AdaptiveCard();
  card.hostConfig = hostConfig;
  card.onExecuteAction = (action) => {
    if (action instanceof AC.OpenUrlAction) openLink(action.url);
  };
  const ctx = new AC.SerializationContext();
  card.parse(content, ctx);
  const el = card.render();
  if (el) sweep(el);
  return el;
}

/** The adaptive card body, rendered once per content object. */
export function AdaptiveBody({ content }) {
  const host = useRef(null);
  useEffect(() => {
    const node = host.current;
    if (!node) return;
    node.replaceChildren();
    let el = null;
    try {
      el = renderContent(content);
    } catch (e) {
      el = null;
    }
    if (el) node.appendChild(el);
    else node.textContent = "This card could not be shown.";
  }, [content]);
  return <div class="card-body" ref={host} />;
}

const COLOR_RE = /^#?([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
export function themeColor(c) {
  if (typeof c !== "string" || !COLOR_RE.test(c.trim())) return null;
  const v = c.trim();
  return v.startsWith("#") ? v : "#" + v;
}

/** A connector card: frame with sender, via, theme-colour edge, and the adaptive content. */
export function CardFrame({ card, time }) {
  const env = (card && card.envelope) || {};
  const sender = env.sender || {};
  const color = themeColor(env.themeColor);
  const image = isSafeImage(sender.image) ? sender.image : null;
  return (
    <article class="card" data-dialect={env.dialect || ""} style={color ? { borderLeftColor: color } : undefined}>
      <header class="card-head">
        <Avatar name={sender.name || "?"} image={image} size={28} />
        <span class="card-sender">{sender.name || "Connector"}</span>
        {env.via && <span class="card-via">via {env.via}</span>}
        {time}
      </header>
      {card && card.content ? <AdaptiveBody content={card.content} /> : null}
    </article>
  );
}
