// The page inside a survey's frame: tell the parent window what happens, by
// postMessage, only if the parent's origin is one the study allows
// (`[embedding] allow`, the same list as the page's frame-ancestors). The
// message names the target origin, so no other page can read it even if a
// guess about the parent is wrong.

/** Whether the page is shown inside a frame. */
export const framed = window.parent !== window;

/** Whether `origin` (scheme://host[:port]) is matched by `pattern` (may be `*.host`). */
export function originMatches(pattern, origin) {
  const [scheme, host] = pattern.split("://");
  let url;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== `${scheme}:`) return false;
  if (host.startsWith("*.")) return url.host.endsWith(host.slice(1));
  return url.host === host;
}

/** The parent window's origin if the study allows it, else null. */
export function parentOrigin(allow) {
  if (!framed || !allow.length) return null;
  const candidates = [];
  if (location.ancestorOrigins && location.ancestorOrigins.length) {
    candidates.push(location.ancestorOrigins[0]);
  }
  if (document.referrer) {
    try {
      candidates.push(new URL(document.referrer).origin);
    } catch {
      // not a URL: no candidate from it
    }
  }
  return candidates.find((origin) => allow.some((pattern) => originMatches(pattern, origin))) || null;
}

/** Post `{type: "woz", event, session, participant}` to an allowed parent. */
export function tellParent(allow, event, session, participant) {
  const origin = parentOrigin(allow);
  if (!origin) return;
  window.parent.postMessage({ type: "woz", event, session, participant }, origin);
}
