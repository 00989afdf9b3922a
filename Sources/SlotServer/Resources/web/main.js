// One page, two uses: `/b/{token}` is a customer's booking (manage.js), everything else the booking flow (book.js).
// slotd serves this same HTML for both paths.

if (/^\/b\/[^/]+/.test(location.pathname)) import("./manage.js");
else import("./book.js");
