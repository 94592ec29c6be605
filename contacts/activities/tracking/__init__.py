"""Tracking: what a customer did with the CRM's email and on their own website (issues 26/27).

A shared piece of the activities app: leads count it for scoring now, marketing will reuse it.
Activities imports no other module; they plug in through `services.on_tracked` (told of every
recorded event, in a Celery task after the commit) and `services.sites` (which websites may
report page views, and from which origins).

- **Email opens and clicks.** An outbound email written while `TrackingSettings` allows it is
  `MailMessage.tracked`; when it is sent, its HTML part gets a 1x1 pixel (`/t/o/<token>.gif`) and
  each http(s) link goes through `/t/c/<token>/`. Both tokens are signed (django.core.signing,
  one salt per purpose) and name the email; the click token also carries the link, so the
  redirect only ever goes where the email pointed (no open redirect). A forged token: the pixel
  is still a GIF, the redirect a 404 page. Each event is one INSERT that also skips a repeat
  within `CRM_TRACKING_DEDUP_SECONDS` and checks the switch and the email.
- **Page views.** `static/js/crm_track.js` on the customer's site posts each page's address,
  title and referrer to `/t/pv/<site>/` with a signed visitor id it keeps in the site's own
  storage (the same signing as `crm.visitors`); CORS, size and rate limits in `views.py`.
"""
