// payloads.mjs: what outside services post to the webhook in the tests: a Teams MessageCard, a
// Slack message, an Adaptive Card message, and the XSS table (every vector in every card field,
// in each dialect, and in plain messages).
export const messageCard = {
  "@type": "MessageCard",
  "@context": "https://schema.org/extensions",
  summary: "Build 42 passed",
  themeColor: "0076D7",
  title: "Build #42 passed",
  sections: [{
    activityTitle: "CI run 42",
    activitySubtitle: "main · 3 commits",
    activityImage: "https://ci.example.com/avatar.png",
    facts: [
      { name: "Branch", value: "main" },
      { name: "Duration", value: "3m 12s" },
      { name: "Tests", value: "127 passed" },
    ],
    markdown: true,
    text: "All **127** tests passed. See [the report](https://ci.example.com/42).",
  }],
  potentialAction: [
    { "@type": "OpenUri", name: "View build", targets: [{ os: "default", uri: "https://ci.example.com/42" }] },
    { "@type": "HttpPOST", name: "Retry", target: "https://ci.example.com/42/retry" },
  ],
};

export const slack = {
  text: "Deploy of *api* finished",
  username: "Jenkins",
  icon_url: "https://jenkins.example.com/icon.png",
  attachments: [{
    color: "#36a64f",
    title: "Deploy #7",
    title_link: "https://jenkins.example.com/7",
    text: "Rolled out to all regions",
    fields: [{ title: "Environment", value: "production", short: true }, { title: "Version", value: "1.4.2", short: true }],
  }],
};

export const adaptive = {
  type: "message",
  attachments: [{
    contentType: "application/vnd.microsoft.card.adaptive",
    content: {
      type: "AdaptiveCard",
      version: "1.5",
      body: [
        { type: "TextBlock", text: "Incident INC-12 resolved", size: "Large", weight: "Bolder", wrap: true },
        { type: "TextBlock", text: "The database failover **completed** in 14 minutes.", wrap: true },
        { type: "FactSet", facts: [{ title: "Severity", value: "SEV-2" }, { title: "Owner", value: "dba-oncall" }] },
      ],
      actions: [
        { type: "Action.OpenUrl", title: "Open incident", url: "https://status.example.com/inc/12" },
        { type: "Action.Submit", title: "Acknowledge", data: { ack: true } },
      ],
    },
  }],
};

// ---- the XSS table ----
export const VECTORS = [
  `<script>window.__xss=1;alert("script")</script>`,
  `<img src=x onerror="window.__xss=1;alert('img')">`,
  `<svg onload="window.__xss=1;alert('svg')"><script>alert(1)</script></svg>`,
  `<svg><a xlink:href="javascript:alert('svg-a')"><text x="0" y="10">svg link</text></a></svg>`,
  `<a href="javascript:window.__xss=1;alert('a')">html js link</a>`,
  `<a href="data:text/html,<script>alert('data')</script>">html data link</a>`,
  `<iframe src="javascript:alert('iframe')"></iframe><object data="javascript:alert(1)"></object>`,
  `[md js link](javascript:window.__xss=1;alert('md'))`,
  `[md data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
  `[md vbscript](vbscript:msgbox(1)) <javascript:alert(1)>`,
  `![md js image](javascript:alert('mdimg'))`,
  `![md svg image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+PC9zdmc+)`,
  `![x](https://img.example.com/x.png" onerror="alert('attr'))`,
  `"><img src=x onerror=alert('break')><"`,
  `<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')></style></mglyph></table></mtext></math>`,
  `<style>body{display:none}</style><div style="background:url(javascript:alert(1))">styled</div>`,
  `<details open ontoggle="alert('toggle')">d</details><body onload=alert('body')>`,
  `[link with title](https://example.com "x\\" onmouseover=\\"alert(1)")`,
  `<form action="javascript:alert(1)"><button>go</button></form><input autofocus onfocus=alert('focus')>`,
];
export const BAD_URLS = [
  "javascript:window.__xss=1;alert('url')",
  "JaVaScRiPt:alert('case')",
  " javascript:alert('space')",
  "data:text/html,<script>alert('data-url')</script>",
  "vbscript:msgbox(1)",
  "data:image/svg+xml,<svg onload=alert(1)>",
];

export function xssPayloads() {
  const out = [];
  VECTORS.forEach((v, i) => {
    const u = BAD_URLS[i % BAD_URLS.length];
    out.push({
      "@type": "MessageCard", summary: v, title: v, text: v, themeColor: `red;background:url(${u})`,
      sections: [{
        activityTitle: v, activitySubtitle: v, activityText: v, activityImage: u, title: v, text: v,
        facts: [{ name: v, value: v }], images: [{ image: u, title: v }], heroImage: { image: u, title: v },
        potentialAction: [{ "@type": "OpenUri", name: v, targets: [{ os: "default", uri: u }] }],
      }],
      potentialAction: [
        { "@type": "OpenUri", name: v, targets: [{ os: "default", uri: u }] },
        { "@type": "ActionCard", name: v, inputs: [{ "@type": "TextInput", id: "c", title: v }],
          actions: [{ "@type": "HttpPOST", name: v, target: u, body: v }] },
      ],
    });
    out.push({
      text: v, username: v, icon_url: u,
      attachments: [{ color: u, pretext: v, author_name: v, author_link: u, author_icon: u, title: v, title_link: u, text: v,
        fields: [{ title: v, value: v, short: true }], image_url: u, thumb_url: u, footer: v, footer_icon: u }],
      blocks: [{ type: "section", text: { type: "mrkdwn", text: `${v} <${u}|slack link>` },
        accessory: { type: "image", image_url: u, alt_text: v } }],
    });
    out.push({
      type: "message",
      attachments: [{
        contentType: "application/vnd.microsoft.card.adaptive",
        content: {
          type: "AdaptiveCard", version: "1.5", backgroundImage: u,
          selectAction: { type: "Action.OpenUrl", url: u },
          body: [
            { type: "TextBlock", text: v, wrap: true },
            { type: "RichTextBlock", inlines: [{ type: "TextRun", text: v, selectAction: { type: "Action.OpenUrl", url: u } }] },
            { type: "Image", url: u, altText: v, selectAction: { type: "Action.OpenUrl", url: u } },
            { type: "FactSet", facts: [{ title: v, value: v }] },
            { type: "Container", backgroundImage: { url: u }, items: [{ type: "TextBlock", text: v }] },
            { type: "Media", sources: [{ mimeType: "video/mp4", url: u }] },
            { type: "ImageSet", images: [{ type: "Image", url: u }] },
          ],
          actions: [
            { type: "Action.OpenUrl", title: v, url: u, iconUrl: u },
            { type: "Action.ShowCard", title: v, card: { type: "AdaptiveCard", body: [{ type: "TextBlock", text: v }] } },
          ],
        },
      }],
    });
    out.push({ content: v, username: v, avatar_url: u,
      embeds: [{ title: v, description: v, url: u, color: 15258703, author: { name: v, url: u, icon_url: u },
        fields: [{ name: v, value: v }], image: { url: u }, thumbnail: { url: u }, footer: { text: v, icon_url: u } }] });
  });
  return out;
}
