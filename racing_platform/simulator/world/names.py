"""Names for horses, jockeys, trainers and races, from word lists so a seed gives thousands of unique ones.

The shapes copy racing.com: horse names of one or two words ("Northern Eyes", "Satness"), jockeys abbreviated
("J.B.McDonald") with a url slug of the full name ("james-mc-donald"), trainers abbreviated ("K.Waugh") or as
partnerships ("Annabel & Rob Archibald").
"""

from __future__ import annotations

import re

import numpy as np

# fmt: off
_ADJECTIVES = [
    "Northern", "Southern", "Eastern", "Western", "Golden", "Silver", "Crimson", "Scarlet", "Amber", "Ivory",
    "Ebony", "Royal", "Noble", "Grand", "Little", "Big", "Wild", "Quiet", "Silent", "Bold", "Brave", "Swift",
    "Rapid", "Lucky", "Happy", "Sunny", "Stormy", "Misty", "Dusty", "Rusty", "Shady", "Secret", "Hidden",
    "Lost", "Mighty", "Gentle", "Fierce", "Proud", "Lonely", "Cosmic", "Electric", "Magnetic", "Atomic",
    "Sonic", "Stellar", "Lunar", "Solar", "Polar", "Tropical", "Coastal", "Desert", "Mountain", "River",
    "Ocean", "Island", "Midnight", "Morning", "Evening", "Winter", "Summer", "Autumn", "Spring", "Ancient",
    "Modern", "Classic", "Vintage", "Perfect", "Famous", "Secret", "Magic", "Mystic", "Cheeky", "Saucy",
    "Sneaky", "Tricky", "Clever", "Smart", "Sharp", "Flying", "Running", "Dancing", "Singing", "Rolling",
    "Roaring", "Blazing", "Shining", "Gleaming", "Sparkling", "Burning", "Frozen", "Hot", "Cool", "Smooth",
    "Rough", "Steady", "Velvet", "Titanium", "Iron", "Steel", "Copper", "Diamond", "Crystal", "Marble",
    "Granite", "Emerald", "Sapphire", "Ruby", "Jade", "Pearl", "Coral", "Blue", "Black", "White", "Red",
    "Green", "Grey", "Pink", "Purple", "Indigo", "Rapid", "Restless", "Fearless", "Tireless", "Endless",
    "Timeless", "Nameless", "Sweet", "Salty", "Spicy", "Bitter", "Zesty", "Jolly", "Merry", "Witty", "Lively",
    "Dapper", "Snappy", "Rowdy", "Rebel", "Outback", "Bush", "Harbour", "Urban",
]
_NOUNS = [
    "Eyes", "Bay", "Miss", "Avenger", "Thoughts", "Charm", "Lady", "Girl", "Boy", "Prince", "Princess",
    "King", "Queen", "Duke", "Duchess", "Knight", "Baron", "Star", "Moon", "Sun", "Comet", "Rocket", "Arrow",
    "Bullet", "Thunder", "Lightning", "Storm", "Rain", "Wind", "Breeze", "Cloud", "Sky", "Horizon", "Dawn",
    "Dusk", "Shadow", "Spirit", "Dream", "Wish", "Hope", "Promise", "Legend", "Hero", "Warrior", "Soldier",
    "Ranger", "Hunter", "Drifter", "Rambler", "Wanderer", "Traveller", "Pilot", "Captain", "General", "Major",
    "Sergeant", "Chief", "Boss", "Tycoon", "Baroness", "Empress", "Emperor", "Sultan", "Pharaoh", "Maverick",
    "Outlaw", "Bandit", "Rogue", "Pirate", "Gambler", "Dancer", "Singer", "Poet", "Artist", "Painter",
    "Sailor", "Rider", "Runner", "Racer", "Flyer", "Jet", "Express", "Flash", "Blaze", "Fire", "Flame",
    "Spark", "Ember", "Frost", "Snow", "Ice", "River", "Creek", "Valley", "Ridge", "Peak", "Summit", "Canyon",
    "Harbour", "Coast", "Reef", "Tide", "Wave", "Lagoon", "Meadow", "Prairie", "Forest", "Garden", "Rose",
    "Lily", "Orchid", "Daisy", "Tulip", "Violet", "Poppy", "Magnolia", "Willow", "Oak", "Cedar", "Maple",
    "Falcon", "Eagle", "Hawk", "Raven", "Robin", "Swallow", "Sparrow", "Phoenix", "Dragon", "Tiger", "Lion",
    "Panther", "Wolf", "Fox", "Bear", "Stallion", "Mustang", "Colt", "Filly", "Diva", "Belle", "Beauty",
    "Angel", "Saint", "Rebel", "Ruler", "Monarch", "Regent", "Tribute", "Legacy", "Fortune", "Treasure",
    "Jackpot", "Bounty", "Nugget", "Gem", "Jewel", "Crown", "Sceptre", "Throne", "Castle", "Palace", "Tower",
    "Bridge", "Gate", "Road", "Highway", "Lane", "Street", "Avenue", "Journey", "Voyage", "Quest", "Venture",
    "Mission", "Secret", "Riddle", "Mystery", "Puzzle", "Whisper", "Echo", "Melody", "Rhythm", "Harmony",
    "Symphony", "Anthem", "Ballad", "Tango", "Waltz", "Samba", "Rumba", "Salsa", "Jive", "Boogie", "Groove",
    "Vibe", "Mojo", "Magic", "Wonder", "Marvel", "Miracle", "Glory", "Pride",
]
_SYLLABLES_START = [
    "Ag", "Al", "Ar", "Ba", "Be", "Bo", "Ca", "Ce", "Co", "Da", "De", "Di", "Ka", "Ke", "Ko", "La", "Le",
    "Lo", "Ma", "Me", "Mo", "Na", "Ne", "No", "Pa", "Pe", "Ra", "Re", "Ro", "Sa", "Se", "So", "Ta", "Te",
    "To", "Va", "Ve", "Za", "Zo",
]
_SYLLABLES_MID = [
    "ri", "na", "la", "ta", "ne", "so", "ra", "di", "mo", "ve", "li", "ni", "sa", "to", "ka", "ze", "lo",
]
_SYLLABLES_END = [
    "ta", "na", "ness", "za", "ra", "no", "ly", "rio", "nix", "dor", "lia", "ro", "ssa", "tana", "ize", "ga",
    "sto",
]
_FIRST_NAMES_MALE = [
    "James", "Tom", "Adam", "Ben", "Jason", "Jay", "Tommy", "Andrew", "Dylan", "Chad", "Craig", "Damien",
    "Luke", "Mark", "Michael", "Daniel", "Ryan", "Jamie", "Brett", "Blake", "Patrick", "Harry", "Jack",
    "Kerrin", "Declan", "Ethan", "Liam", "Noah", "Oliver", "Lachlan", "Hugh", "Nash", "Corey", "Beau", "Tim",
    "Zac", "Teo", "Billy", "Jye", "Ronan", "Ned", "Regan", "Tyler", "Mitchell", "Logan", "Kyle", "Reece",
    "Alana", "Josh", "Matthew", "Stephen", "Brad", "Glen", "Dean", "Clayton", "Rhys",
]
_FIRST_NAMES_FEMALE = [
    "Anna", "Shannen", "Alysha", "Jess", "Winona", "Rachel", "Jamie", "Kathy", "Linda", "Laura", "Jaylah",
    "Celine", "Holly", "Tahlia", "Ellie", "Georgia", "Emily", "Chelsea", "Jordan", "Hannah", "Madison",
    "Kayla", "Lucy", "Sophie", "Olivia", "Chloe", "Amy", "Bella", "Nikita", "Alana", "Leah", "Rebecca",
    "Samantha", "Teagan",
]
_SURNAMES = [
    "McDonald", "Roper", "Sherry", "Hyeronimus", "Llewellyn", "Collett", "Thompson", "Schofield", "Adkins",
    "Gibbons", "Ford", "Berry", "Taylor", "Lloyd", "Costin", "Clark", "Bayliss", "Reith", "King", "Allen",
    "Baster", "Mott", "Nolen", "Oliver", "Williams", "Zahra", "Kah", "Rawiller", "Stevens", "Angland",
    "Brown", "Cartwright", "Dee", "Egan", "Farrell", "Gallagher", "Harris", "Jones", "Kelly", "Lane", "Moore",
    "Murphy", "Nash", "Neale", "O'Brien", "Parker", "Quinn", "Rogers", "Shinn", "Tarrant", "Walker", "Young",
    "Avdulla", "Bowman", "Callow", "Doyle", "Elliott", "Fawke", "Grylls", "Hall", "Innes", "Jordan",
    "Kennedy", "Lewis", "MacDougall", "McNeil", "Newitt", "Orman", "Pike", "Rolfe", "Skelton", "Thornton",
    "Upton", "Vickers", "Waugh", "Xuereb", "Yates", "Zerafa", "Maloney", "Hodgson", "McEvoy", "McPherson",
    "McKinnon", "McLean", "McGrath", "McCarthy", "Stanley", "Hayes", "Price", "Freedman", "Portelli",
    "Bartley", "Widdup", "Ible", "Green", "Bateup", "Sargent", "Hull", "Snowden", "Waterhouse", "Bott",
    "Archibald", "Feek", "Atkins", "Baker", "Cummings", "Hawkes", "Moody", "Kent", "Dunn", "Maher", "Eustace",
    "Ryan", "Pride", "Boyd",
]
_SPONSORS = [
    "Ladbrokes", "Sportsbet", "TAB", "bet365", "PointsBet", "Neds", "Picklebet", "Aquis", "Yulong", "Darley",
    "Godolphin", "Coolmore", "Widden", "Arrowfield", "Vinery", "Newgate", "Kia", "Toyota", "Mitre10",
    "Carlton", "Furphy", "Hahn", "Coopers", "Boag's", "Bendigo", "Westpac", "Harcourts", "Ray-White",
    "Schweppes",
]
_PLACES = [
    "Hillside", "Lakeside", "Riverside", "Parkside", "Seaside", "Bayview", "Hilltop", "Valley", "Gardens",
    "Heights", "Downs", "Meadows", "Park", "Ridge", "Springs", "Station", "Junction", "Crossing", "Bridge",
    "Harbour", "Point", "Bluff", "Creek", "Flats", "Plains", "Vale", "Grove", "Glen", "Brook", "Falls",
]
# fmt: on


def _unique(candidates: list[str], n: int, what: str) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in candidates:
        if name not in seen:
            seen.add(name)
            out.append(name)
            if len(out) == n:
                return out
    raise ValueError(f"name generation for {what}: only {len(out)} unique names, {n} needed")


def horse_names(rng: np.random.Generator, n: int) -> list[str]:
    """Two-word combinations, prefixed forms and coined single words, unique within the world."""
    pool_size = int(n * 1.6) + 100
    kind = rng.random(pool_size)
    adjective = rng.choice(_ADJECTIVES, pool_size)
    noun = rng.choice(_NOUNS, pool_size)
    start = rng.choice(_SYLLABLES_START, pool_size)
    mid = rng.choice(_SYLLABLES_MID, pool_size)
    end = rng.choice(_SYLLABLES_END, pool_size)
    second_noun = rng.choice(_NOUNS, pool_size)
    candidates: list[str] = []
    for i in range(pool_size):
        if kind[i] < 0.55:
            candidates.append(f"{adjective[i]} {noun[i]}")
        elif kind[i] < 0.75:
            candidates.append(f"{start[i]}{mid[i]}{end[i]}")
        elif kind[i] < 0.85:
            candidates.append(f"{start[i]}{end[i]}")
        elif kind[i] < 0.93:
            candidates.append(
                f"{noun[i]} {second_noun[i]}" if noun[i] != second_noun[i] else f"The {noun[i]}"
            )
        else:
            candidates.append(f"{start[i]}{mid[i]}{end[i]} {noun[i]}")
    names = _unique(candidates, n, "horses") if len(set(candidates)) >= n else None
    if names is None:  # very large worlds: disambiguate with a roman numeral like racing's "II"
        names = _unique(
            [f"{c} {suffix}" for suffix in ("", "II", "III", "IV") for c in candidates], n, "horses"
        )
        names = [name.strip() for name in names]
    return names


def _slug_surname(surname: str) -> str:
    """racing.com slugs split a Mc/Mac prefix ("McDonald" -> "mc-donald") and drop apostrophes."""
    text = surname.replace("'", "")
    text = re.sub(r"^(Mc|Mac)(?=[A-Z])", r"\1 ", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def jockey_people(rng: np.random.Generator, n: int, apprentice: np.ndarray) -> tuple[list[str], list[str]]:
    """(abbreviated names like "J.B.McDonald", url slugs like "james-mc-donald"); apprentices skew female."""
    names: list[str] = []
    slugs: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(names) < n:
        attempts += 1
        if attempts > n * 50:
            raise ValueError(f"jockey name generation: only {len(names)} unique names for {n} jockeys")
        female = rng.random() < (0.45 if apprentice[len(names)] else 0.28)
        first = str(rng.choice(_FIRST_NAMES_FEMALE if female else _FIRST_NAMES_MALE))
        surname = str(rng.choice(_SURNAMES))
        middle = (
            str(rng.choice(_FIRST_NAMES_FEMALE if female else _FIRST_NAMES_MALE))
            if rng.random() < 0.35
            else ""
        )
        short = f"{first[0]}.{middle[0] + '.' if middle else ''}{surname}"
        if short in seen:
            continue
        seen.add(short)
        names.append(short)
        slugs.append(f"{first.lower()}-{_slug_surname(surname)}")
    return names, slugs


def trainer_names(rng: np.random.Generator, n: int) -> list[str]:
    """Mostly initials + surname; about one in seven a partnership of two first names and a surname."""
    candidates: list[str] = []
    for _ in range(n * 4):
        surname = str(rng.choice(_SURNAMES))
        if rng.random() < 0.14:
            first_a = str(rng.choice(_FIRST_NAMES_MALE + _FIRST_NAMES_FEMALE))
            first_b = str(rng.choice(_FIRST_NAMES_MALE + _FIRST_NAMES_FEMALE))
            if first_a == first_b:
                continue
            candidates.append(f"{first_a} & {first_b} {surname}")
        else:
            initials = "".join(
                f"{c}." for c in rng.choice(list("ABCDGJKLMNPRST"), 1 + int(rng.random() < 0.4))
            )
            candidates.append(f"{initials}{surname}")
    return _unique(candidates, n, "trainers")


def bloodline_names(rng: np.random.Generator, n: int, exclude: set[str]) -> list[str]:
    """Sire and dam names: same generator, never clashing with a racing horse's name."""
    return [name for name in horse_names(rng, n + len(exclude) + 50) if name not in exclude][:n]


def race_titles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sponsor-style race names ("Ladbrokes Hillside Plate"); the class word is appended by the caller."""
    sponsor = rng.choice(_SPONSORS, n)
    place = rng.choice(_PLACES, n)
    style = rng.random(n)
    return np.where(style < 0.5, np.char.add(np.char.add(sponsor, " "), place), sponsor)


def stakes_titles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Names for black-type races: a surname or place word plus Stakes/Cup/Classic."""
    base = np.where(rng.random(n) < 0.6, rng.choice(_SURNAMES, n), rng.choice(_PLACES, n))
    word = rng.choice(["Stakes", "Stakes", "Stakes", "Cup", "Classic", "Quality", "Guineas", "Plate"], n)
    return np.char.add(np.char.add(base.astype(str), " "), word)
