"""The citizen's device in a few words ("Smartphone · Firefox"), for the
operator (seed 000: "canale e dispositivo"). Only this short description is
kept, never the whole user agent."""

from django.utils.translation import gettext_lazy as _

#: (marker in the user agent, name), first match wins; Edge and Opera say
#: "Chrome" too, Chrome says "Safari" too.
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"),
            ("Firefox/", "Firefox"), ("FxiOS", "Firefox"), ("CriOS", "Chrome"),
            ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))


def describe(user_agent):
    """"Smartphone · Firefox", "Tablet · Safari", "Computer · Chrome"… or ""."""
    ua = (user_agent or "")[:512]
    if not ua:
        return ""
    if "iPad" in ua or ("Android" in ua and "Mobile" not in ua):
        kind = _("Tablet")
    elif "Mobi" in ua or "iPhone" in ua or "Android" in ua:
        kind = _("Smartphone")
    else:
        kind = _("Computer")
    browser = next((name for marker, name in BROWSERS if marker in ua), "")
    return f"{kind} · {browser}" if browser else str(kind)
