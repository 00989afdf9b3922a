// The deposit (or the saved card) with Stripe.js, loaded only when a booking needs it, from the configured URL.

let loading = null;      // the promise of the Stripe.js script, loaded once per page
let stripe = null;       // one Stripe instance and one card element per page: Stripe allows one card per Elements
let card = null;

function loadStripe(url) {
    loading ??= new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = url;
        script.onload = () => resolve();
        script.onerror = () => { loading = null; reject(new Error(`Stripe.js could not be loaded from ${url}`)); };
        document.head.append(script);
    });
    return loading;
}

/**
 * Mounts the card element into `mount` and pays (or saves the card) when `button` is pressed: `onPaid()` once
 * Stripe says so, `onFailed(message)` otherwise, `onUnavailable(message)` when Stripe.js cannot be loaded at all.
 * The booking itself turns confirmed by the webhook, not here.
 */
export async function startPayment(stripeSettings, payment, mount, button,
                                   { busyText, onPaid, onFailed, onUnavailable }) {
    const label = button.textContent;
    button.disabled = true;
    try {
        await loadStripe(stripeSettings.js_url);
        stripe ??= window.Stripe(stripeSettings.publishable_key);
        if (!card) card = stripe.elements().create("card");
        else card.unmount();
        card.mount(mount);
    } catch (error) {
        onUnavailable(error.message);
        return;
    }
    button.disabled = false;
    button.onclick = async () => {
        if (button.disabled) return;
        button.disabled = true;
        button.textContent = busyText;
        mount.setAttribute("aria-busy", "true");
        let result;
        try {
            const data = { payment_method: { card } };
            result = payment.kind === "setup"
                ? await stripe.confirmCardSetup(payment.client_secret, data)
                : await stripe.confirmCardPayment(payment.client_secret, data);
        } catch (error) {
            result = { error: { message: error.message } };
        }
        mount.removeAttribute("aria-busy");
        button.textContent = label;
        button.disabled = false;
        if (result.error) {
            onFailed(result.error.message || String(result.error));
            return;
        }
        const intent = result.paymentIntent ?? result.setupIntent;
        if (["succeeded", "processing", "requires_capture"].includes(intent?.status)) {
            card.unmount();
            onPaid();
        } else {
            onFailed(intent?.status ?? "unknown");
        }
    };
}
