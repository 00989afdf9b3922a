// The page's words, one object per locale, and the formatting of dates, times and money in the shop's zone.
// Every string the pages show comes from here; a missing key shows the key itself, so it is noticed at once.

const strings = {
    en: {
        language: "Language",
        book_title: "Book an appointment",
        manage_title: "Your appointment",
        loading: "Loading…",
        back: "Back",
        next: "Continue",
        step_service: "Choose a service",
        step_variant: "Choose an option",
        step_staff: "Choose who",
        step_day: "Choose a day",
        step_time: "Choose a time",
        step_details: "Your details",
        step_payment: "Pay the deposit",
        step_card: "Save your card",
        step_done: "Your appointment",
        any_staff: "Anyone available",
        any_staff_hint: "Any free barber",
        minutes: "{n} min",
        deposit_of: "deposit {amount}",
        previous_month: "Previous month",
        next_month: "Next month",
        day_free: "{date}, free times",
        day_full: "{date}, fully booked",
        no_times: "No free times left on this day. Please choose another day.",
        times_live: "Times update live: a time someone else books disappears.",
        slot_taken_now: "Someone has just booked {time}. Please choose another time.",
        chosen: "Your choice",
        with_staff: "with {name}",
        name: "Name",
        phone: "Phone",
        email: "E-mail",
        notes: "Notes for the shop (optional)",
        contact_hint: "Give a phone number, an e-mail address or both, so we can reach you.",
        need_name: "Please enter your name.",
        need_contact: "Please give a phone number or an e-mail address.",
        bad_email: "This e-mail address looks incomplete.",
        policy_free: "You can cancel free of charge up to {window} before the appointment.",
        policy_fee: "Later cancellations and no-shows cost {fee}.",
        policy_fee_percent: "Later cancellations and no-shows cost {percent} % of the price ({fee}).",
        policy_no_fee: "Later cancellations cost nothing, but please let us know.",
        policy_deposit: "A deposit of {amount} is paid now and counts towards the price.",
        policy_card: "Your card is saved to charge the fee for a late cancellation or a no-show.",
        consent: "I accept the cancellation policy and the privacy notice.",
        need_consent: "Please accept the policy to book.",
        book: "Book now",
        booking: "Booking…",
        taken: "This time has just been taken.",
        alternatives: "The nearest free times:",
        pick_alternative: "Take {time}",
        pay: "Pay {amount}",
        save_card: "Save card and book",
        paying: "Paying…",
        card_label: "Card details",
        hold_until: "We hold this time for you until {time}.",
        status_held: "Waiting for the payment",
        status_confirmed: "Confirmed",
        status_cancelled: "Cancelled",
        status_expired: "Expired",
        status_completed: "Completed",
        status_no_show: "Missed",
        status_offered: "Offered to you from the waiting list",
        offer_title: "A place came free for you",
        offer_hold: "We hold it for you until {time}. Accept it to book it, or decline so the next person in line " +
            "gets it.",
        offer_accept: "Accept this appointment",
        offer_decline: "Decline",
        offer_accepted: "Your appointment is booked. See you soon!",
        offer_declined: "You declined the offer. The time goes to the next person in line.",
        waiting_confirmation: "Payment received — waiting for the shop's confirmation…",
        confirmed_message: "Your appointment is confirmed. See you soon!",
        expired_message: "The time was held for you, but the payment did not arrive in time, so the time is free " +
            "again. Nothing was charged. Please book again.",
        start_over: "Book another appointment",
        when: "When",
        where: "Where",
        what: "Service",
        who: "With",
        price: "Price",
        deposit: "Deposit",
        status: "Status",
        add_to_calendar: "Add to calendar (.ics)",
        manage_link: "Change or cancel this appointment",
        manage_hint: "Keep this link: it lets you move or cancel the appointment.",
        not_found: "This link is not valid (any more). Please use the link from your latest confirmation.",
        cancel: "Cancel appointment",
        cancel_confirm: "Yes, cancel it",
        keep: "Keep it",
        cancel_free: "Cancelling now is free of charge.",
        cancel_fee: "Cancelling now costs {fee} (less than {window} before the appointment).",
        cancel_refund: "Your deposit of {amount} will be refunded.",
        cancel_no_refund: "No money comes back.",
        cancelled_message: "Your appointment is cancelled.",
        move: "Move appointment",
        move_same: "Same barber ({name})",
        move_any: "Anyone available",
        move_here: "Move to {time}",
        moved_message: "Your appointment has been moved.",
        close: "Close",
        error_generic: "Something went wrong: {detail}",
        error_network: "The shop could not be reached. Please check your connection and try again.",
        error_rate: "Too many attempts in a short time. Please wait a minute and try again.",
        payment_failed: "The payment did not go through: {detail}",
        payment_unavailable: "Payments cannot be taken online right now. Please call the shop.",
        imprint: "Imprint",
        privacy: "Privacy",
        hours: "{n} hours",
        hour: "1 hour",
        days: "{n} days",
        minutes_long: "{n} minutes",
    },
    de: {
        language: "Sprache",
        book_title: "Termin buchen",
        manage_title: "Ihr Termin",
        loading: "Lädt…",
        back: "Zurück",
        next: "Weiter",
        step_service: "Leistung wählen",
        step_variant: "Variante wählen",
        step_staff: "Bei wem?",
        step_day: "Tag wählen",
        step_time: "Uhrzeit wählen",
        step_details: "Ihre Angaben",
        step_payment: "Anzahlung bezahlen",
        step_card: "Karte hinterlegen",
        step_done: "Ihr Termin",
        any_staff: "Egal wer",
        any_staff_hint: "Wer zuerst frei ist",
        minutes: "{n} Min.",
        deposit_of: "Anzahlung {amount}",
        previous_month: "Vorheriger Monat",
        next_month: "Nächster Monat",
        day_free: "{date}, freie Zeiten",
        day_full: "{date}, ausgebucht",
        no_times: "An diesem Tag ist nichts mehr frei. Bitte wählen Sie einen anderen Tag.",
        times_live: "Die Zeiten sind live: was jemand anderes bucht, verschwindet.",
        slot_taken_now: "{time} wurde gerade von jemand anderem gebucht. Bitte wählen Sie eine andere Zeit.",
        chosen: "Ihre Auswahl",
        with_staff: "bei {name}",
        name: "Name",
        phone: "Telefon",
        email: "E-Mail",
        notes: "Hinweise an den Laden (optional)",
        contact_hint: "Telefonnummer, E-Mail-Adresse oder beides, damit wir Sie erreichen.",
        need_name: "Bitte geben Sie Ihren Namen an.",
        need_contact: "Bitte geben Sie eine Telefonnummer oder eine E-Mail-Adresse an.",
        bad_email: "Diese E-Mail-Adresse scheint unvollständig.",
        policy_free: "Bis {window} vor dem Termin können Sie kostenlos absagen.",
        policy_fee: "Spätere Absagen und Nichterscheinen kosten {fee}.",
        policy_fee_percent: "Spätere Absagen und Nichterscheinen kosten {percent} % des Preises ({fee}).",
        policy_no_fee: "Spätere Absagen kosten nichts, aber bitte sagen Sie uns Bescheid.",
        policy_deposit: "Eine Anzahlung von {amount} wird jetzt fällig und auf den Preis angerechnet.",
        policy_card: "Ihre Karte wird hinterlegt, um bei später Absage oder Nichterscheinen die Gebühr abzubuchen.",
        consent: "Ich akzeptiere die Stornobedingungen und die Datenschutzerklärung.",
        need_consent: "Bitte akzeptieren Sie die Bedingungen, um zu buchen.",
        book: "Jetzt buchen",
        booking: "Wird gebucht…",
        taken: "Diese Zeit wurde gerade vergeben.",
        alternatives: "Die nächsten freien Zeiten:",
        pick_alternative: "{time} nehmen",
        pay: "{amount} bezahlen",
        save_card: "Karte hinterlegen und buchen",
        paying: "Zahlung läuft…",
        card_label: "Kartendaten",
        hold_until: "Wir halten diese Zeit für Sie bis {time} frei.",
        status_held: "Wartet auf die Zahlung",
        status_confirmed: "Bestätigt",
        status_cancelled: "Abgesagt",
        status_expired: "Verfallen",
        status_completed: "Erledigt",
        status_no_show: "Nicht erschienen",
        status_offered: "Ihnen von der Warteliste angeboten",
        offer_title: "Ein Termin ist für Sie frei geworden",
        offer_hold: "Wir halten ihn bis {time} für Sie frei. Nehmen Sie ihn an, um ihn zu buchen, oder lehnen Sie " +
            "ab, damit ihn die nächste Person auf der Warteliste bekommt.",
        offer_accept: "Termin annehmen",
        offer_decline: "Ablehnen",
        offer_accepted: "Ihr Termin ist gebucht. Bis bald!",
        offer_declined: "Sie haben das Angebot abgelehnt. Der Termin geht an die nächste Person auf der Warteliste.",
        waiting_confirmation: "Zahlung erhalten — warte auf die Bestätigung des Ladens…",
        confirmed_message: "Ihr Termin ist bestätigt. Bis bald!",
        expired_message: "Die Zeit war für Sie reserviert, aber die Zahlung kam nicht rechtzeitig an; die Zeit ist " +
            "wieder frei. Es wurde nichts abgebucht. Bitte buchen Sie erneut.",
        start_over: "Weiteren Termin buchen",
        when: "Wann",
        where: "Wo",
        what: "Leistung",
        who: "Bei",
        price: "Preis",
        deposit: "Anzahlung",
        status: "Status",
        add_to_calendar: "In den Kalender (.ics)",
        manage_link: "Termin ändern oder absagen",
        manage_hint: "Bewahren Sie diesen Link auf: damit können Sie den Termin verschieben oder absagen.",
        not_found: "Dieser Link ist nicht (mehr) gültig. Bitte nutzen Sie den Link aus Ihrer letzten Bestätigung.",
        cancel: "Termin absagen",
        cancel_confirm: "Ja, absagen",
        keep: "Behalten",
        cancel_free: "Eine Absage ist jetzt kostenlos.",
        cancel_fee: "Eine Absage kostet jetzt {fee} (weniger als {window} vor dem Termin).",
        cancel_refund: "Ihre Anzahlung von {amount} wird erstattet.",
        cancel_no_refund: "Es wird nichts erstattet.",
        cancelled_message: "Ihr Termin ist abgesagt.",
        move: "Termin verschieben",
        move_same: "Gleiche Person ({name})",
        move_any: "Egal wer",
        move_here: "Auf {time} verschieben",
        moved_message: "Ihr Termin wurde verschoben.",
        close: "Schließen",
        error_generic: "Etwas ist schiefgegangen: {detail}",
        error_network: "Der Laden ist gerade nicht erreichbar. Bitte prüfen Sie die Verbindung und versuchen Sie " +
            "es erneut.",
        error_rate: "Zu viele Versuche in kurzer Zeit. Bitte warten Sie eine Minute.",
        payment_failed: "Die Zahlung ist nicht durchgegangen: {detail}",
        payment_unavailable: "Online-Zahlung ist gerade nicht möglich. Bitte rufen Sie den Laden an.",
        imprint: "Impressum",
        privacy: "Datenschutz",
        hours: "{n} Stunden",
        hour: "1 Stunde",
        days: "{n} Tage",
        minutes_long: "{n} Minuten",
    },
};

/** The locales the pages speak, in the order the switch lists them. */
export const LOCALES = ["de", "en"];
const LOCALE_NAMES = { de: "Deutsch", en: "English" };
const INTL_LOCALE = { de: "de-DE", en: "en-GB" };
const STORAGE_KEY = "slotd.locale";

/** The words, dates and money of one locale in one shop time zone. */
export class Words {
    constructor(locale, timeZone, currency) {
        this.locale = LOCALES.includes(locale) ? locale : "en";
        this.timeZone = timeZone || "UTC";
        this.currency = currency || "EUR";
        const intl = INTL_LOCALE[this.locale];
        const zone = { timeZone: this.timeZone };
        this.dateFormat = new Intl.DateTimeFormat(intl, { ...zone, weekday: "long", day: "numeric", month: "long" });
        this.longFormat = new Intl.DateTimeFormat(intl, {
            ...zone, weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit",
            minute: "2-digit",
        });
        this.timeFormat = new Intl.DateTimeFormat(intl, { ...zone, hour: "2-digit", minute: "2-digit" });
        this.monthFormat = new Intl.DateTimeFormat(intl, { timeZone: "UTC", month: "long", year: "numeric" });
        this.weekdayFormat = new Intl.DateTimeFormat(intl, { timeZone: "UTC", weekday: "short" });
        this.calendarDayFormat = new Intl.DateTimeFormat(intl, {
            timeZone: "UTC", weekday: "long", day: "numeric", month: "long",
        });
        this.moneyFormat = new Intl.NumberFormat(intl, { style: "currency", currency: this.currency });
    }

    /** The string `key` with `{name}` placeholders filled from `values`. */
    t(key, values = {}) {
        const text = strings[this.locale][key] ?? strings.en[key] ?? key;
        return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
    }

    /** An instant (ISO 8601 with offset) as the time of day in the shop's zone. */
    time(iso) { return this.timeFormat.format(new Date(iso)); }

    /** An instant as weekday, date and time in the shop's zone. */
    dateTime(iso) { return this.longFormat.format(new Date(iso)); }

    /** An instant's day in the shop's zone. */
    day(iso) { return this.dateFormat.format(new Date(iso)); }

    /** A calendar date `YYYY-MM-DD` (no zone) in words. */
    calendarDay(date) { return this.calendarDayFormat.format(utcDate(date)); }

    /** A month `YYYY-MM` in words. */
    month(month) { return this.monthFormat.format(utcDate(`${month}-01`)); }

    /** A weekday's short name, Monday = 0. */
    weekday(index) { return this.weekdayFormat.format(new Date(Date.UTC(2024, 0, 1 + index))); }

    /** Minor units (cents) in the shop's currency. */
    money(cents) { return this.moneyFormat.format(cents / 100); }

    /** A duration in minutes in words (the cancellation window). */
    duration(minutes) {
        if (minutes % 1440 === 0 && minutes > 1440) return this.t("days", { n: minutes / 1440 });
        if (minutes % 60 === 0) return minutes === 60 ? this.t("hour") : this.t("hours", { n: minutes / 60 });
        return this.t("minutes_long", { n: minutes });
    }
}

function utcDate(date) {
    const [year, month, day] = date.split("-").map(Number);
    return new Date(Date.UTC(year, month - 1, day));
}

/** The locale to use: the customer's earlier choice, else the shop's default. */
export function chosenLocale(shopLocale) {
    let saved = null;
    try { saved = localStorage.getItem(STORAGE_KEY); } catch { /* storage off: use the shop's default */ }
    return LOCALES.includes(saved) ? saved : (LOCALES.includes(shopLocale) ? shopLocale : "en");
}

/** Fills the language `<select>` and calls `onChange(locale)` when the customer picks another. */
export function bindLocaleSwitch(select, current, onChange) {
    select.replaceChildren(...LOCALES.map((locale) => {
        const option = new Option(LOCALE_NAMES[locale], locale, false, locale === current);
        option.lang = locale;
        return option;
    }));
    select.onchange = () => {
        try { localStorage.setItem(STORAGE_KEY, select.value); } catch { /* not remembered, still switched */ }
        onChange(select.value);
    };
}
