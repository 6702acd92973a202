"""The people of the demo inbox, and the threads a client must get right (media, scripts, traps)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HOSTILE", "PEOPLE", "SPECIAL_THREADS", "Line", "SpecialThread"]

# username, display name, domain (None: on the fake instance itself). Names are fictional.
PEOPLE: tuple[tuple[str, str, str | None], ...] = (
    ("alice", "Alice Moreau", None),
    ("quietfox", "", None),
    ("tomasz", "Tomasz Nowak", None),
    ("priya", "Priya Raman", None),
    ("sam", "Sam O'Brien", None),
    ("jo", "Jo", None),
    ("bea", "Beatriz Lima", "example.org"),
    ("chidi", "Chidi Okafor", "example.org"),
    ("marta", "Marta Kowalczyk 🌿", "example.net"),
    ("ines", "Inês Carvalho", "travel.example"),
    ("oskar", "Oskar Lindqvist", "example.com"),
    ("leila", "Leila Haddad", "example.net"),
    ("noor", "Noor", "photos.example"),
    ("river", "", "other.example"),
    ("kai", "Kai 🌈", "example.org"),
    ("wren", "Wren Ellis", "garden.example"),
    ("ming", "Ming Zhao", "example.com"),
    ("teo", "Teo Marín", "example.net"),
    ("grace", "Grace Adeyemi", "other.example"),
    ("ravi", "Ravi Menon", "example.org"),
    ("hana", "山田 花子", "tokyo.example"),
    ("fatima", "فاطمة الزهراء", "example.com"),
    ("dmitri", "Дмитрий Соколов", "example.org"),
    ("alexis", "Αλέξης Παπαδόπουλος", "example.net"),
    ("mallory", "[b]Mallory[/b]", "example.net"),
    ("eve", "Eve", "other.example"),
    ("billing", "Billing Department", "invoices.example"),
)
# Not cast in everyday scripts: they only send the hostile messages.
HOSTILE = ("mallory", "eve", "billing")

FILES = "https://files.example.net/media_attachments/files/112/040/118"
OSC52_MARKER = "⟦osc52⟧"


@dataclass(frozen=True)
class Line:
    speaker: str  # "me" or a username from PEOPLE
    text: str
    to: tuple[str, ...] | None = None  # None: everyone else in the thread
    spoiler_text: str = ""
    media: tuple[dict, ...] = ()
    html_swap: tuple[str, str] | None = None  # (marker, raw HTML) patched into the content


@dataclass(frozen=True)
class SpecialThread:
    rank: int  # where its newest message lands in the inbox: 0 is the top
    people: tuple[str, ...]  # besides me
    lines: tuple[Line, ...]


RIDGE_MEDIA = (
    {
        "type": "image",
        "url": f"{FILES}/original/ridge-fog.jpg",
        "preview_url": f"{FILES}/small/ridge-fog.jpg",
        "description": "Morning fog filling a green valley, seen from a rocky ridge. Two hikers "
        "in red jackets stand at the edge, pointing at the sunrise.",
        "meta": {
            "original": {"width": 4032, "height": 3024, "size": "4032x3024", "aspect": 1.333},
            "small": {"width": 640, "height": 480, "size": "640x480", "aspect": 1.333},
        },
        "blurhash": "UBDJeD~q4n%M-;xuRjof00IU?bM{9Fxut7Rj",
    },
    {
        "type": "video",
        "url": f"{FILES}/original/summit-wind.mp4",
        "preview_url": f"{FILES}/small/summit-wind.jpg",
        "description": "Twelve seconds at the summit: wind flattening the grass while someone "
        "laughs off-camera.",
        "meta": {
            "original": {
                "width": 1920,
                "height": 1080,
                "frame_rate": "30/1",
                "duration": 12.4,
                "bitrate": 4200000,
            }
        },
    },
    {
        "type": "image",
        "url": f"{FILES}/original/trail-map.png",
        "preview_url": f"{FILES}/small/trail-map.png",
        "description": None,
        "meta": {"original": {"width": 1170, "height": 2532}},
    },
)

LONG_LETTER = "\n\n".join(
    (
        "So, Lisbon! I promised you the full brain dump, so here it is. Grab a coffee.",
        "Getting in: take the metro from the airport, the red line, then change at Alameda. "
        "It's cheap and faster than a taxi at rush hour. Buy a rechargeable card at the "
        'machines and load it with "zapping" credit; it works on trams, buses and the ferries '
        "too. The official guide is decent: https://transit.example.org/lisbon/zapping",
        "Where to stay: Graça or Alfama if you like hills and views, Cais do Sodré if you "
        "like noise and late dinners. I stayed at a small place near the Feira da Ladra "
        "market and woke up to the flea market setting up on Tuesday morning, which was "
        "magical. Booking page: https://stay.example.net/graca-rooftop",
        "Eating: go to a tasca at lunch, order the prato do dia and don't overthink it. "
        "Grilled sardines in summer, bacalhau the rest of the year. The custard tarts "
        "everyone talks about are worth the queue once; after that, any neighbourhood bakery "
        "is just as good and you won't wait forty minutes. My list of favourites, with the "
        "opening hours that Google gets wrong: https://notes.example.com/lisbon-food",
        "Day trips: Sintra is beautiful but go on a weekday and take the first train. Or skip "
        "it and take the ferry across to Cacilhas, walk along the river to the restaurant "
        "under the cliff, and watch the sunset over the bridge. That was my favourite evening "
        "of the whole trip.",
        "Practical bits: wear shoes with grip, the pavement stones are polished smooth and "
        "the hills are no joke when it rains. Museums are free on Sunday mornings for "
        "residents only, so don't plan around that. Tram 28 is lovely and also a pickpocket's "
        "paradise; walk the route instead, it's mostly downhill if you start at the top.",
        "Have the best time, and send pictures of every single tile you fall in love with. 💙",
    )
)

SPECIAL_THREADS: tuple[SpecialThread, ...] = (
    SpecialThread(
        1,
        ("noor",),
        (
            Line("me", "How was the ridge walk? Did the fog clear?"),
            Line(
                "noor",
                "Photos from the ridge walk! The last one is the map, I'll add a "
                "description later.",
                media=RIDGE_MEDIA,
            ),
            Line("me", "The fog in the valley! Stunning."),
            Line("noor", "The video doesn't do the wind justice. Next time you're coming."),
        ),
    ),
    SpecialThread(
        2,
        ("ines",),
        (
            Line("me", "Heading to Lisbon next month! Any tips? You know it so well."),
            Line("ines", "Oh, do I have tips. Give me a minute."),
            Line("ines", LONG_LETTER),
        ),
    ),
    SpecialThread(
        3,
        ("river",),
        (
            Line("river", "hey, we met at the repair café. you said you had a spare bike light?"),
            Line("me", "I do! Front or back?"),
            Line("river", "back, please. mine fell off somewhere on the bridge"),
        ),
    ),
    SpecialThread(
        4,
        ("leila",),
        (
            Line(
                "leila",
                "Did you finish The Lighthouse Keepers?",
            ),
            Line("me", "Yes, last night!"),
            Line(
                "leila",
                "I can't believe the keeper was her sister all along. The storm "
                "episode makes so much sense now!",
                spoiler_text="Spoilers: The Lighthouse Keepers, season finale",
            ),
            Line(
                "me",
                "I KNOW. I rewatched the first episode and the clues are everywhere: the "
                "lamp was always lit!",
                spoiler_text="Spoilers: The Lighthouse Keepers, season finale",
            ),
            Line(
                "leila",
                "Okay, new rule: we watch the next season together.",
                spoiler_text="Mild spoilers for what happens next",
            ),
        ),
    ),
    SpecialThread(
        5,
        ("hana",),
        (
            Line("hana", "明日の打ち合わせ、10時からで大丈夫ですか？🙏"),
            Line("me", "大丈夫です！資料は今夜送りますね。"),
            Line("hana", "ありがとうございます！桜がきれいなので、終わったら散歩しましょう 🌸"),
        ),
    ),
    SpecialThread(
        6,
        (),
        (
            Line("me", "Note to self: renew the passport before the trip, and call the dentist."),
            Line("me", "Also: return the library books (three of them are overdue, oops)."),
        ),
    ),
    SpecialThread(
        7,
        ("kai",),
        (
            Line("kai", "New team photo! 👩‍💻👨‍💻🧑🏽‍🚀 and the office dog 🐕‍🦺"),
            Line("me", "😂 The dog is the best part. Where was that taken?"),
            Line(
                "kai",
                "At the offsite in Porto 🇵🇹. Next year maybe 🇯🇵 or 🇬🇷? "
                "Bringing the whole family 👨‍👩‍👧‍👦 and the 🏳️‍🌈 flag for the desk.",
            ),
        ),
    ),
    SpecialThread(
        9,
        ("fatima",),
        (
            Line("fatima", "مرحبا! هل أنت متفرغ يوم الجمعة؟"),
            Line("me", "Yes, Friday works! Shall we meet at the library?"),
            Line("fatima", "ممتاز، نلتقي في المكتبة الساعة الرابعة 📚"),
        ),
    ),
    SpecialThread(
        10,
        ("mallory",),
        (
            Line(
                "mallory",
                "Hey! Quick test of your new client: [@click=app.quit]click me[/] "
                "and does [/foo] break anything? What about [bold red]not bold[/]?",
            ),
            Line("me", "Ha, nice try. It all shows up as plain text here."),
            Line("mallory", 'Worth a shot. How about <script>alert("hi")</script> & friends?'),
        ),
    ),
    SpecialThread(
        11,
        ("eve",),
        (
            Line(
                "eve",
                f"Paste this into your terminal for a surprise: {OSC52_MARKER} (harmless, promise)",
                html_swap=(OSC52_MARKER, "&#27;]52;c;SGVsbG8=&#7;"),
            ),
        ),
    ),
    SpecialThread(
        12,
        ("dmitri",),
        (
            Line("dmitri", "Привет! Ты смотрел новую версию библиотеки? Там переписали парсер."),
            Line("me", "Ещё нет. Стоит обновляться?"),
            Line(
                "dmitri",
                "Да, стало быстрее раза в два. Заметки к релизу: "
                "https://code.example.org/parser/releases/2.0",
            ),
        ),
    ),
    SpecialThread(
        13,
        ("eve",),
        (
            Line(
                "eve",
                "Status report: \x1b[2J\x1b[31mALL SYSTEMS DOWN\x1b[0m. Just kidding. "
                "Here's a \x1b]8;;https://evil.example/\x07totally safe link\x1b]8;;\x07.",
            ),
        ),
    ),
    SpecialThread(
        14,
        ("billing",),
        (
            Line(
                "billing",
                "Here is the invoice you asked for: invoice_\u202efdp.exe. "
                "The total is \u202e0021\u202c EUR.",
            ),
        ),
    ),
    SpecialThread(
        15,
        ("alexis",),
        (
            Line("alexis", "Καλημέρα! Θα έρθεις στο πάρτι το Σάββατο; 🎉"),
            Line("me", "Ναι, φυσικά! Να φέρω κάτι;"),
            Line("alexis", "Μόνο καλή διάθεση. Και ίσως λίγο κρασί 🍷🇬🇷"),
        ),
    ),
)
