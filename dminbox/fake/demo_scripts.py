"""Everyday threads for the demo inbox, written as short scripts between me and others.

Each line is "speaker: text". Speakers are `me` and the slots `a`–`d`, filled
with different people each time a script is used. A line reaches everyone
else in the thread, unless written "speaker>listener: text", which replies to
that listener alone (and so, as on Mastodon, forks a new conversation).
Text may use {a}…{d} (first names), {a_user}, and the fillers in FILLERS.
"""

from __future__ import annotations

__all__ = ["FILLERS", "LIVE_LINES", "SCRIPTS"]

FILLERS: dict[str, tuple[str, ...]] = {
    "place": (
        "the Lantern Café",
        "Marigold Bakery",
        "the river path",
        "Juniper Hall",
        "the night market",
        "Pier 9",
        "the botanical garden",
        "the Copper Kettle",
    ),
    "day": ("Saturday", "Sunday", "Friday", "Thursday", "Tuesday", "Wednesday"),
    "time": ("10:30", "noon", "7pm", "half past six", "9ish", "four"),
    "dish": (
        "shakshuka",
        "mushroom risotto",
        "dal makhani",
        "lemon tart",
        "pho",
        "focaccia",
        "miso ramen",
        "spanakopita",
    ),
    "city": (
        "Lisbon",
        "Kyoto",
        "Montréal",
        "Tbilisi",
        "Oaxaca",
        "Bergen",
        "Valparaíso",
        "Ljubljana",
    ),
    "book": (
        "The Left Hand of Darkness",
        "Piranesi",
        "A Psalm for the Wild-Built",
        "The Dispossessed",
        "Station Eleven",
        "The Remains of the Day",
    ),
    "film": ("Perfect Days", "Past Lives", "Paddington 2", "Spirited Away", "Arrival"),
    "project": ("tide-tables", "bike-share-map", "recipe-box", "garden-sensor", "zine-site"),
}

SCRIPTS: tuple[tuple[str, ...], ...] = (
    (
        "a: Are you around {day}? I finally have a free morning.",
        "me: Yes! Coffee at {place}? Around {time}?",
        "a: Perfect. I'll grab the table by the window if it's free.",
        "me: See you there ☕",
    ),
    (
        "a: That {dish} you made last week: any chance you'd share the recipe?",
        "me: Of course! It's mostly this one with extra garlic: https://recipes.example.org/r/{n}",
        "a: Extra garlic is always the answer.",
        "a: Made it tonight. My flatmate asked for seconds, which has never happened.",
    ),
    (
        "a: Could you take a look at my PR for {project}? It's small, promise.",
        "me: Sure, send the link.",
        "a: https://code.example.org/{a_user}/{project}/pulls/{n}",
        "me: Left a few comments, mostly naming. The retry loop needs a maximum number of "
        "attempts though, or it spins forever when the server is down.",
        "a: Good catch, fixed and pushed.",
        "me: Approved 👍",
    ),
    (
        "a: Booked my tickets to {city}! Any tips?",
        "me: Oh, you'll love it. Walk everywhere, and eat at the tiny places with handwritten menus.",
        "a: Noted. Did you stay somewhere central?",
        "me: A guesthouse near the old market. I'll find the name.",
        "me: Found it: https://stay.example.net/guesthouse-{n}",
        "a: Booked. You're the best.",
    ),
    (
        "a: Have you started {book} yet?",
        "me: Halfway. No spoilers please!",
        "a: My lips are sealed. Just… the chapter with the letters. Wow.",
    ),
    (
        "a: Random question: do you still have that cargo bike?",
        "me: I do! Need to move something?",
        "a: A bookshelf and about nine boxes of, well, books.",
        "me: Ha. {day} works for me, I can bring straps.",
        "a: You're a hero. Pizza is on me.",
    ),
    (
        "a: I think I left my scarf at yours: green, very long, slightly chewed by a dog.",
        "me: Found it on the coat rack. The dog-chewing is noted.",
        "a: Can I pick it up on {day}?",
    ),
    (
        "a: I have two tickets for the jazz trio at {place} on {day} and my plus-one bailed. "
        "Interested?",
        "me: Absolutely. What time does it start?",
        "a: Doors at {time}. I'll meet you outside.",
    ),
    (
        "a: My back brake is making a noise like a goose. Is that bad?",
        "me: Usually it's glazed pads or a bit of grit. Sand the pads lightly and clean the rim.",
        "a: Did that. The goose is gone. You saved me a trip to the shop.",
        "me: 🪿👋",
    ),
    (
        "a: The tomatoes are finally turning red!! 🍅",
        "me: Finally! Are you making sauce this year?",
        "a: Planning to. Want a jar?",
        "me: Yes please, I'll trade you some chili jam.",
        "a: Deal.",
    ),
    (
        "a: Thanks for the conversation practice yesterday, it helped a lot.",
        "me: Anytime! Same time next week?",
        "a: Yes. I'll prepare questions about the past tense, my nemesis.",
    ),
    (
        "a: Heads-up: the review for {project} moved to {day}.",
        "me: Thanks. Do we still need slides?",
        "a: Just the demo and a one-page summary.",
        "me: Easy. I'll draft the summary tonight.",
        "me: Draft is here: https://docs.example.com/d/{n}-summary",
        "a: Read it and tweaked two sentences. Looks great.",
    ),
    (
        "a: Could you feed the cats while I'm in {city}?",
        "me: Sure, which days?",
        "a: Thursday to Sunday. They eat twice a day and will lie to you about it.",
        "me: I know their tricks by now 😼",
        "a: The key is under the blue pot. Thank you!!",
    ),
    (
        "a: Did you end up watching {film}?",
        "me: Last night. I cried at the end and I'm not ashamed.",
        "a: Same. And the soundtrack!",
    ),
    (
        "a: We're planning a surprise for Sam's birthday. Are you in?",
        "me: Obviously. What do you need?",
        "a: Could you bake something? Sam loves lemon.",
        "me: Lemon drizzle it is.",
        "a: 🎂 You're on cake duty then. {day}, {time}, at {place}. Don't tell Sam!",
    ),
    (
        "a: My laptop says the disk is full but I can't find what's using it.",
        "me: Try `du -sh ~/* | sort -h` in a terminal, it lists the biggest folders last.",
        "a: Apparently I have 40 GB of screenshots. Oops.",
        "me: Classic.",
    ),
    (
        "a: Hike on {day}? The forecast looks clear.",
        "me: Which trail?",
        "a: The ridge loop, about 14 km. Map: https://trails.example.org/ridge-loop",
        "me: I'm in. I'll bring snacks.",
        "a: Meet at the trailhead at 8? Early, I know.",
        "me: Ugh, fine. For the view.",
    ),
    ("a: Got the package, thank you! It's beautiful.", "me: So glad it arrived safely 💛"),
    (
        "a: Are you going to the meetup at {place}?",
        "me: Thinking about it. Is it the one about local-first apps?",
        "a: Yes! The speaker wrote that CRDT post we both liked.",
        "a: Event page: https://events.example.net/local-first-{n}",
    ),
    (
        "a: So sorry, I have to cancel {day}. Work exploded.",
        "me: No worries at all! Next week?",
        "a: Yes, let's. I owe you a coffee.",
    ),
    (
        "a: You said you wanted a podcast for the commute?",
        "a: Try Small Bridges: twenty-minute episodes on engineering history. "
        "https://podcasts.example.com/small-bridges",
        "me: Added! The one about the swing bridge looks great.",
    ),
    (
        "a: My sourdough starter died. Again.",
        "me: Oh no. Want some of mine? It survived my whole holiday, it's very forgiving.",
        "a: Yes please. I promise to feed it this time.",
        "me: I'll put a jar aside. It's called Doughlores and you have to keep the name.",
        "a: Doughlores will be loved.",
    ),
    (
        "a: Do you know if {place} has step-free access?",
        "me: The main entrance has two steps, but there's a ramp round the side by the bike racks.",
        "a: Thanks, that helps a lot.",
    ),
    (
        "a: Sending you the photos from the weekend!",
        "a: https://photos.example.org/album/{n}",
        "me: These are gorgeous. The one with the heron!",
        "a: I waited twenty minutes for that heron.",
    ),
    (
        "a: I got the job!!!",
        "me: WHAT! Congratulations!! 🎉",
        "a: Thank you! I start in three weeks. Terrified and thrilled.",
        "me: You'll be brilliant. Celebration dinner is on me.",
    ),
    (
        "me: Do you still have my copy of {book}? No rush!",
        "a: Yes! Sorry, I keep forgetting. I'll bring it on {day}.",
    ),
    (
        "a: What's the wifi password at the studio again?",
        "me: It's on the fridge, under the cat magnet.",
        "a: There are four cat magnets.",
        "me: The orange one.",
        "a: Got it, thanks 😂",
    ),
    (
        "a: Want a lift to the conference on {day}? I have two free seats.",
        "me: Yes please! When are you leaving?",
        "a: Around 7. I'll pick you up at the corner.",
    ),
    (
        "a: The community garden needs help with the compost bins on {day}. Any chance?",
        "me: Count me in for the morning.",
        "a: Great, gloves provided. Bring water.",
    ),
    (
        "a: Is the drilling next door driving you mad too?",
        "me: Yes. Apparently it's a new kitchen. Two more weeks.",
        "a: Noise-cancelling headphones it is.",
    ),
    (
        "a: Board games at mine on {day}? Thinking Wingspan and something silly.",
        "me: Yes! I'll bring snacks and my terrible poker face.",
        "a: Perfect, see you at {time}.",
    ),
    (
        "a: Is there a clean way to debounce a search box in Textual?",
        "me: I keep a timer and restart it on every change: set_timer, and stop the old one.",
        "a: Oh, neat. And a worker for the actual query?",
        "me: Yes, with exclusive=True so the latest search wins.",
        "a: That worked beautifully, thanks!",
    ),
    (
        "a: My monstera has yellow leaves. Help?",
        "me: Usually too much water. Let the top few centimetres dry out between waterings.",
        "a: I may have been loving it too much.",
    ),
    (
        "me: Do you know a good place for {dish} near {place}?",
        "a: Yes! The tiny place with the blue door. Cash only though.",
        "me: Perfect, thanks!",
        "a: Tell them I sent you, they'll give you extra bread.",
    ),
    (
        "a: I'm hosting a clothes swap on {day}. Bring anything you don't wear any more!",
        "me: Ooh, I have a whole bag ready.",
    ),
    (
        "a: The nightly build is failing on the timezone test again.",
        "me: The one that assumes the machine runs in UTC?",
        "a: That one. It passes locally, obviously.",
        "me: Let's set TZ in the test setup instead of trusting the runner.",
        "a: PR is up: https://code.example.org/{a_user}/{project}/pulls/{n}",
        "me: Merged. The nightly is green again.",
        "a: 🎉 Thanks!",
    ),
    (
        "a: Dinner at mine on {day}? I'm making {dish}.",
        "b: Yes!! What should I bring?",
        "me: I can bring dessert.",
        "a: Just bring yourselves. And maybe bread.",
        "b: Bread, got it. {time}?",
        "a: {time} is perfect.",
    ),
    (
        "a: Okay, {city} in spring: who's actually coming?",
        "me: Me, if we go in April.",
        "b: Me too, but I can only take five days off.",
        "a: Five days works. I'll look at trains and flights.",
        "a: Found a decent option: https://travel.example.com/search?to={city}&n={n}",
        "b: Booked!",
        "me: Booked too. This is happening! ✈️",
    ),
    (
        "a: I put the zine budget in a spreadsheet: https://sheets.example.net/zine-budget-{n}",
        "b: Printing costs more than I thought.",
        "me: We could do a smaller first run, 100 copies, and reprint if it sells.",
        "a: Good idea, updated.",
    ),
    (
        "b: Practice moved to {day} at {time}, the room was double-booked.",
        "a: Works for me.",
        "me: Same. I'll bring the new chords for the bridge.",
        "b: 🎸",
    ),
    (
        "a: Collecting for Priya's leaving gift: a nice pen and a card?",
        "me: I'm in, how much?",
        "b: Same, just send the details.",
        "a: 15 each. I'll sign the card from all of us.",
    ),
    (
        "a: Are we still doing the pottery class on {day}?",
        "b: I can't make it this week, sorry!",
        "me: I'm still going. {a}, lunch after?",
        "a>me: Yes! Just us then. The ramen place?",
        "me>a: The ramen place it is.",
    ),
    (
        "a: Book club reminder: {book}, {day} at {place}, {time}.",
        "b: I haven't finished it…",
        "c: Nobody has, it's fine.",
        "me: I finished it and I have Opinions.",
        "a: Bring the opinions.",
        "b: I'll read the last chapter on the bus, promise.",
    ),
    (
        "a: Picnic in the park on {day}? The forecast says sun.",
        "c: I'll bring a frisbee.",
        "me: I'll bring the {dish}.",
        "b: Blanket and lemonade from me.",
        "a: Perfect. Meet by the big oak at noon.",
    ),
    (
        "a: Triage notes are here: https://notes.example.org/triage-{n}",
        "c: I'll take the two accessibility issues.",
        "b: I'll look at the crash on startup.",
        "me: I'll review the docs PRs.",
    ),
    (
        "a: Reunion planning! Is everyone free the last weekend of the month?",
        "b: Yes.",
        "c: Probably, I need to check with work.",
        "d: Yes!!",
        "me: Yes, and I can host on Saturday.",
        "c: Work said yes. I'm in!",
        "a: Amazing. I'll make a list of who brings what.",
    ),
    (
        "d: Rehearsal plan: the round first, then the new piece.",
        "a: Could someone share the sheet music?",
        "me: Here: https://music.example.net/sheets/round-{n}.pdf",
        "b: Thank you!",
        "c: 🎶",
    ),
)

# What arrives while a live demo runs (fake/demo_live.py): (username, text), in this order.
LIVE_LINES: tuple[tuple[str, str], ...] = (
    ("alice", "Are you still up? I just finished the last chapter and I need to talk about it."),
    ("tomasz", "Heads up: the bakery on the corner has the good croissants again 🥐"),
    ("priya", "My train is stuck outside the station. Start without me, I'll catch up!"),
    ("bea", "Found the photos from last summer. Sending you the best ones tonight 📸"),
    ("sam", "Did you leave a green umbrella at mine? It's been by the door all week."),
    ("alice", "Also: same time next week? I'll bring the next book."),
)
