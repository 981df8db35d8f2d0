"""Generate the bundled demo datasets (CC0) from templates, slots and paraphrases with a fixed seed.

Run from anywhere:  python resources/demo/make_demo_data.py
It rewrites ``support_tickets.csv`` and ``instructions.jsonl`` next to this file; the output is byte-identical
on every run (seeded ``random.Random``, no other source of randomness, standard library only).
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

SEED = 20260601
HERE = Path(__file__).resolve().parent
N_TICKETS = 1200
AMBIGUOUS_FRACTION = 0.09
NOISE_FRACTION = 0.03

# ------------------------------------------------------------------------------------------- ticket slots

SLOTS: dict[str, list[str]] = {
    "amount": ["$4.99", "$12", "$19.99", "$29", "$49.50", "$75", "$120", "$9.95", "€15", "£22", "$250", "$8"],
    "plan": ["Basic", "Pro", "Premium", "Family", "Team", "Starter", "annual", "monthly"],
    "device": ["iPhone", "Android phone", "laptop", "Windows PC", "Mac", "tablet", "Chromebook", "smart TV"],
    "app_part": ["the app", "the dashboard", "the website", "the mobile app", "the desktop client", "the checkout page",
                 "the search bar", "the settings page", "the upload screen", "the reports tab"],
    "error": ["error 500", "a blank white screen", "'something went wrong'", "error code E42", "a timeout",
              "an endless spinner", "'session expired'", "a crash on startup", "error 403", "a frozen screen"],
    "item": ["order", "package", "parcel", "delivery", "shipment", "box"],
    "carrier": ["the courier", "the delivery driver", "the carrier", "the post office", "UPS", "DHL"],
    "days": ["two days", "three days", "a week", "five days", "ten days", "two weeks", "since Monday",
             "since last Friday"],
    "place": ["Berlin", "Toronto", "Leeds", "Austin", "Lyon", "Osaka", "Dublin", "Melbourne", "Denver", "Porto"],
    "product": ["headphones", "the blue jacket", "a phone case", "the coffee grinder", "two books", "the desk lamp",
                "running shoes", "the backpack", "a keyboard", "the water bottle"],
    "account_thing": ["email address", "password", "username", "phone number", "profile picture", "display name",
                      "two-factor settings", "recovery email"],
    "feature": ["dark mode", "the new editor", "the export button", "offline mode", "the calendar view",
                "the search filters", "the new layout", "keyboard shortcuts", "the mobile widget", "shared folders"],
    "feeling": ["love", "really like", "am impressed by", "am disappointed with", "am not a fan of", "enjoy",
                "am frustrated with", "appreciate"],
    "agent": ["Sam", "Priya", "the agent", "your support rep", "Marco", "the person on chat", "Lena", "your team"],
}

TEMPLATES: dict[str, list[str]] = {
    "billing": [
        "I was charged {amount} twice this month",
        "Why did my bill go up to {amount}?",
        "Please refund the {amount} charge from yesterday",
        "I cancelled the {plan} plan but you still charged me {amount}",
        "My card was declined when paying for the {plan} plan",
        "Can I get an invoice for the {amount} payment?",
        "There is a {amount} charge on my statement I don't recognise",
        "How do I switch from the {plan} plan to a cheaper one?",
        "The promo code did not lower my bill, I paid {amount}",
        "I need a receipt with my company's VAT number",
        "When will the refund of {amount} reach my account?",
        "You billed me for the {plan} plan after the free trial ended without warning",
        "Can I pay by bank transfer instead of credit card?",
        "My subscription renewed at {amount} but the price was supposed to be lower",
        "Please update the credit card used for billing",
        "I was overcharged {amount} for the {plan} plan",
    ],
    "technical": [
        "{app_part} shows {error} every time I open it",
        "The {device} version keeps crashing",
        "I get {error} when I try to save my work",
        "{app_part} is extremely slow on my {device}",
        "Notifications stopped working on my {device}",
        "Sync between my {device} and {app_part} is broken",
        "After the last update {app_part} won't load",
        "Uploading a file gives me {error}",
        "{feature} does not work on my {device}",
        "The page freezes with {error} after I click submit",
        "I can't export my data, it fails with {error}",
        "Images are not loading in {app_part}",
        "The {device} app drains my battery since the update",
        "Buttons in {app_part} do nothing when I tap them",
        "I keep getting {error} in {app_part}",
        "The install fails on my {device}",
    ],
    "shipping": [
        "My {item} has not arrived after {days}",
        "The tracking number for my {item} doesn't work",
        "{carrier} says my {item} was delivered but I never got it",
        "Can you ship {product} to {place}?",
        "My {item} arrived damaged, {product} is broken",
        "How long does delivery to {place} usually take?",
        "I need to change the delivery address for my {item}",
        "The {item} was sent to the wrong city, {place} instead of mine",
        "Tracking has said 'in transit' for {days}",
        "{product} was missing from my {item}",
        "Can I pick up my {item} instead of waiting for {carrier}?",
        "Do you offer express shipping to {place}?",
        "{carrier} left my {item} in the rain",
        "I received someone else's {item}",
        "My {item} is stuck in customs in {place}",
        "Can I return {product}? It came in the wrong size",
    ],
    "account": [
        "I can't log in even though my {account_thing} is correct",
        "How do I change my {account_thing}?",
        "Please delete my account and all my data",
        "I never got the verification email for my account",
        "My account was locked after too many login attempts",
        "Someone else may have access to my account",
        "I want to merge my two accounts",
        "The password reset link has expired",
        "How can I update my {account_thing} on my profile?",
        "I lost access to my {account_thing} and can't sign in",
        "Can I add a second user to my account?",
        "Please change the {account_thing} on my account",
        "I forgot my username and my {account_thing}",
        "My login code never arrives on my {device}",
        "How do I turn on two-factor authentication?",
        "I'd like to download a copy of my account data",
    ],
    "feedback": [
        "I {feeling} {feature}",
        "Just wanted to say I {feeling} the latest update",
        "{agent} was very helpful yesterday, thank you",
        "Please bring back the old layout, the new one is confusing",
        "It would be great if you added {feature}",
        "I {feeling} how {feature} works now",
        "{agent} solved my problem in minutes, great service",
        "Your app is the best one I've used for this",
        "Suggestion: let us choose the colour of {feature}",
        "The new design looks clean and modern",
        "I {feeling} the changes to {feature}",
        "Five stars, {agent} was patient and kind",
        "Could you make {feature} available on the {device}?",
        "Honestly the onboarding was confusing for a beginner",
        "Thanks for listening to feedback about {feature}",
        "The tutorial videos were really useful",
    ],
}

OPENERS = ["", "", "", "Hi, ", "Hello, ", "Hi team, ", "Hey, ", "Good morning, ", "Urgent: ", "Quick question: ",
           "Hello support, ", "Excuse me, ", "Hi there, "]
CLOSERS = ["", "", "", ".", ".", "!", ". Thanks", ". Thank you!", ". Please help", ". Any update?",
           ". Thanks in advance", "!!", ". This is the second time I'm writing", ". Cheers"]

# Pairs of short clauses from two classes, for genuinely ambiguous tickets.
BRIDGES = [" and ", ", also ", ". Also, ", " and now ", ", plus ", " - and "]


def _fill(template: str, rng: random.Random) -> str:
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        key = out[start + 1:end]
        out = out[:start] + rng.choice(SLOTS[key]) + out[end + 1:]
    return out


PROPER_STARTS = ("I ", "I'", "UPS", "DHL", "Sam", "Priya", "Marco", "Lena", "Android", "Windows", "Mac",
                 "Chromebook", "VAT", "Pro", "Basic", "Premium", "Family", "Team", "Starter")


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the sentence starts with a name, an acronym or 'I'."""
    if text.startswith(PROPER_STARTS) or text[:1].islower():
        return text
    return text[0].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[0].upper() + text[1:] if not text.startswith("iPhone") else text


def _style(text: str, rng: random.Random) -> str:
    opener = rng.choice(OPENERS)
    text = opener + _lower_first(text) if opener else text
    text = _upper_first(text)
    closer = rng.choice(CLOSERS)
    if text.endswith("?"):  # a question keeps its mark; only worded closers follow it
        closer = "" if closer.strip(".!") == "" else " " + closer.lstrip(". ")
    text = text + closer
    roll = rng.random()
    if roll < 0.06:
        text = text.lower()
    elif roll < 0.09:
        text = text.replace(" you ", " u ").replace("please", "pls").replace("Please", "Pls")
    return text


def make_tickets(rng: random.Random) -> list[tuple[str, str]]:
    """Return ``N_TICKETS`` unique (text, label) rows: clean, ambiguous and noisy ones, shuffled."""
    labels = sorted(TEMPLATES)
    n_ambiguous = round(N_TICKETS * AMBIGUOUS_FRACTION)
    n_noise = round(N_TICKETS * NOISE_FRACTION)
    seen: set[str] = set()
    rows: list[tuple[str, str]] = []

    def add(text: str, label: str) -> bool:
        key = text.lower()
        if key in seen:
            return False
        seen.add(key)
        rows.append((text, label))
        return True

    while len(rows) < n_ambiguous:
        first, second = rng.sample(labels, 2)
        a = _fill(rng.choice(TEMPLATES[first]), rng)
        b = _fill(rng.choice(TEMPLATES[second]), rng)
        b = _lower_first(b)
        text = _style(a.rstrip("?!.") + rng.choice(BRIDGES) + b, rng)
        add(text, rng.choice((first, second)))  # fits both classes; labelled with one of them
    n_clean = N_TICKETS - n_ambiguous
    per_label = n_clean // len(labels)
    for i, label in enumerate(labels):
        target = per_label + (1 if i < n_clean % len(labels) else 0)
        made = 0
        while made < target:
            if add(_style(_fill(rng.choice(TEMPLATES[label]), rng), rng), label):
                made += 1
    rng.shuffle(rows)
    for idx in rng.sample(range(len(rows)), n_noise):  # label noise: a wrong label on a clear ticket
        text, label = rows[idx]
        rows[idx] = (text, rng.choice([other for other in labels if other != label]))
    return rows


# -------------------------------------------------------------------------------------- instruction pairs

SUPPORT_REPLIES: dict[str, str] = {
    "billing": "Sorry about the billing trouble. I have opened a ticket with our billing team; they will check the "
               "charge and reply by email within two business days.",
    "technical": "Sorry it is not working. Please update to the latest version and restart the app. If the problem "
                 "stays, send us a screenshot and we will look into it.",
    "shipping": "Sorry for the delivery problem. Please send us your order number and we will contact the carrier "
                "and update you within 24 hours.",
    "account": "I can help with your account. For your security, please use the 'Forgot password' link or reply from "
               "the email address on the account so we can verify it is you.",
    "feedback": "Thank you for taking the time to share this. I have passed your feedback to the product team.",
}

DEFINITIONS: list[tuple[str, str]] = [
    ("a refund", "money returned to a customer, usually because a purchase was cancelled or faulty"),
    ("an invoice", "a document that lists what was sold, the price and when payment is due"),
    ("a subscription", "a regular payment that gives ongoing access to a product or service"),
    ("a password", "a secret word or phrase used to prove who you are when you sign in"),
    ("two-factor authentication", "a sign-in method that asks for a second proof, such as a code on your phone"),
    ("a tracking number", "a code that lets you follow a parcel on its way to you"),
    ("a courier", "a company or person that delivers parcels and letters"),
    ("customs", "the government office that checks goods entering a country and collects duties"),
    ("a browser", "a program used to open and view websites"),
    ("a cache", "a store of recently used data kept close at hand so it can be read again quickly"),
    ("a bug", "a mistake in a program that makes it behave in an unexpected way"),
    ("an update", "a new version of software that fixes problems or adds features"),
    ("a backup", "a copy of data kept so it can be restored if the original is lost"),
    ("bandwidth", "how much data a network connection can carry in a given time"),
    ("a server", "a computer that provides data or services to other computers over a network"),
    ("a database", "an organised collection of data that a program can search and update"),
    ("encryption", "scrambling data so that only someone with the right key can read it"),
    ("a spreadsheet", "a grid of rows and columns used to store and calculate numbers"),
    ("a budget", "a plan for how much money or resource may be spent"),
    ("a deadline", "the latest time by which something must be done"),
    ("a noun", "a word that names a person, place, thing or idea"),
    ("a verb", "a word that describes an action or a state, such as run or be"),
    ("an adjective", "a word that describes a noun, such as red or quick"),
    ("a synonym", "a word with the same or nearly the same meaning as another word"),
    ("an antonym", "a word with the opposite meaning of another word"),
    ("a prime number", "a whole number greater than 1 whose only divisors are 1 and itself"),
    ("an even number", "a whole number that can be divided by 2 with no remainder"),
    ("a percentage", "a number expressed as a part of 100"),
    ("an average", "the sum of a set of numbers divided by how many numbers there are"),
    ("a fraction", "a number that represents part of a whole, written as one number over another"),
    ("photosynthesis", "the process plants use to turn light, water and carbon dioxide into sugar and oxygen"),
    ("gravity", "the force that pulls objects with mass towards each other"),
    ("evaporation", "the change of a liquid into a gas, such as water drying in the sun"),
    ("a mammal", "a warm-blooded animal with hair that feeds its young with milk"),
    ("a continent", "one of the very large land masses of the Earth, such as Africa or Asia"),
    ("a recipe", "a set of instructions for preparing a dish"),
    ("a warranty", "a promise to repair or replace a product if it fails within a set time"),
    ("a receipt", "a written proof that a payment was made"),
    ("a discount", "a reduction in the usual price"),
    ("a username", "the name you use to identify yourself when signing in to a service"),
    ("a firewall", "a system that blocks unwanted network traffic to protect a computer"),
    ("a keyboard shortcut", "a combination of keys that performs a command quickly"),
    ("a fine-tune", "further training of a pretrained model on a smaller, task-specific dataset"),
    ("a token", "a small piece of text, such as a word or part of a word, that a language model reads"),
]

REWRITE_SENTENCES = [
    "give me my money back now",
    "your app is broken again",
    "send the parcel today",
    "fix my account",
    "why is this so slow",
    "tell me where my order is",
    "cancel my plan",
    "i want a new password",
    "answer my email",
    "stop charging my card",
    "the delivery was late",
    "this update ruined everything",
    "call me back",
    "change my address",
    "the screen is frozen",
    "where is the invoice",
    "the lamp arrived broken",
    "nobody replied to me",
    "make the button bigger",
    "the login code never came",
]

POLITE = {
    "give me my money back now": "Could you please refund my payment as soon as possible?",
    "your app is broken again": "The app seems to have stopped working again. Could you take a look?",
    "send the parcel today": "Would it be possible to send the parcel today, please?",
    "fix my account": "Could you please help me fix a problem with my account?",
    "why is this so slow": "Could you help me understand why this is running slowly?",
    "tell me where my order is": "Could you please let me know where my order is?",
    "cancel my plan": "I would like to cancel my plan, please.",
    "i want a new password": "Could you please help me set a new password?",
    "answer my email": "I would appreciate a reply to my email when you have a moment.",
    "stop charging my card": "Please stop any further charges to my card.",
    "the delivery was late": "I wanted to let you know that my delivery arrived late.",
    "this update ruined everything": "I am having a lot of trouble since the latest update.",
    "call me back": "Could someone please call me back when convenient?",
    "change my address": "Could you please update my address?",
    "the screen is frozen": "The screen seems to be frozen. Could you help?",
    "where is the invoice": "Could you please send me the invoice?",
    "the lamp arrived broken": "Unfortunately, the lamp arrived damaged. Could you help me with a replacement?",
    "nobody replied to me": "I have not received a reply yet. Could someone follow up, please?",
    "make the button bigger": "It would be helpful if the button were a little bigger.",
    "the login code never came": "I have not received my login code. Could you send it again?",
}


def _support_pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for label, reply in SUPPORT_REPLIES.items():
        for template in TEMPLATES[label][:10]:
            ticket = _style(_fill(template, rng), rng)
            pairs.append((f"Reply to this customer message: {ticket}", reply))
    for label in SUPPORT_REPLIES:
        for template in TEMPLATES[label][10:16]:
            ticket = _fill(template, rng)
            pairs.append((f"Which team should handle this ticket: {ticket}?", f"The {label} team."))
    return pairs


def _arithmetic_pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(30):
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        pairs.append((rng.choice(["What is {a} + {b}?", "Add {a} and {b}.", "Compute {a} plus {b}."]).format(a=a, b=b),
                      f"{a} + {b} = {a + b}"))
    for _ in range(25):
        a, b = sorted((rng.randint(2, 150), rng.randint(2, 150)), reverse=True)
        pairs.append((rng.choice(["What is {a} - {b}?", "Subtract {b} from {a}."]).format(a=a, b=b),
                      f"{a} - {b} = {a - b}"))
    for _ in range(25):
        a, b = rng.randint(2, 12), rng.randint(2, 25)
        pairs.append((rng.choice(["What is {a} times {b}?", "Multiply {a} by {b}."]).format(a=a, b=b),
                      f"{a} * {b} = {a * b}"))
    for _ in range(15):
        b, q = rng.randint(2, 12), rng.randint(2, 15)
        pairs.append((f"What is {b * q} divided by {b}?", f"{b * q} / {b} = {q}"))
    for _ in range(10):
        price, pct = rng.choice([20, 40, 50, 80, 120, 200, 60, 90]), rng.choice([10, 25, 50, 20])
        off = price * pct // 100
        pairs.append((f"An item costs ${price}. What does it cost with a {pct}% discount?",
                      f"{pct}% of ${price} is ${off}, so it costs ${price - off}."))
    return pairs


def _definition_pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for term, meaning in DEFINITIONS:
        ask = rng.choice(["Define {t}.", "What is {t}?", "Explain {t} in one sentence."]).format(t=term)
        article_free = term.split(" ", 1)[1] if term.startswith(("a ", "an ")) else term
        answer = f"{term[0].upper() + term[1:]} is {meaning}."
        pairs.append((ask, answer))
        pairs.append((f"In simple words, what does '{article_free}' mean?", f"It means {meaning}."))
    return pairs


def _rewrite_pairs(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for sentence in REWRITE_SENTENCES:
        pairs.append((f"Rewrite politely: {sentence}", POLITE[sentence]))
        pairs.append((f"Convert to upper case: {sentence}", sentence.upper()))
        words = sentence.split()
        pairs.append((f"Reverse the order of the words: {sentence}", " ".join(reversed(words))))
        pairs.append((f"How many words are in: '{sentence}'?", f"There are {len(words)} words."))
    for _ in range(10):
        words = rng.sample(["apple", "river", "cloud", "stone", "paper", "orange", "tiger", "lemon", "music", "bread",
                            "chair", "window", "garden", "pencil"], 4)
        pairs.append((f"Sort these words alphabetically: {', '.join(words)}", ", ".join(sorted(words))))
    return pairs


def make_instructions(rng: random.Random) -> list[dict[str, str]]:
    """Return short prompt/response pairs: support replies, arithmetic, definitions and rewriting."""
    pairs = _support_pairs(rng) + _arithmetic_pairs(rng) + _definition_pairs(rng) + _rewrite_pairs(rng)
    seen: set[str] = set()
    unique = []
    for prompt, response in pairs:
        if prompt not in seen:
            seen.add(prompt)
            unique.append({"prompt": prompt, "response": response})
    rng.shuffle(unique)
    return unique


def render(seed: int = SEED) -> dict[str, str]:
    """The text of both files, by file name (what :func:`main` writes)."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(make_tickets(rng))
    lines = [json.dumps(pair, ensure_ascii=False) for pair in make_instructions(rng)]
    return {"support_tickets.csv": buffer.getvalue(), "instructions.jsonl": "\n".join(lines) + "\n"}


def main() -> None:
    """Write both files next to this script."""
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8", newline="\n")


if __name__ == "__main__":
    main()
