"""The new factual set of the answer-quality bench: 113 questions in eight categories.

None repeats a question of the 48 (facts.py). Each row is (question, accepted pattern,
rejected pattern, a right sample reply, a wrong sample reply); the tests judge both samples
with the patterns, so a pattern that accepts a wrong answer or misses a right one fails a
test, not a benchmark. Wrong samples are the mistakes small models make (a neighbouring
number, the famous city that is not the capital) or a hedge that names the wrong one.
The module is data (the rows), which is why it is longer than the ~300 lines of the others.
"""

from __future__ import annotations

import dataclasses

from voicebot.bench.facts import Fact, hedge, number, year

Row = tuple[str, str, str, str, str]


def _rows(category: str, *rows: Row) -> tuple[Fact, ...]:
    return tuple(Fact(question, accept, reject, category, sample, wrong)
                 for question, accept, reject, sample, wrong in rows)


def _not_capital(wrong: str) -> str:
    """Reject a reply that says `wrong` is the capital or hedges with it; naming it
    otherwise ("replacing Rio", "Istanbul is the largest city") is fine."""
    return (f"capital[^.]*\\bis (?:the city of )?(?:{wrong})\\b|"
            f"\\b(?:{wrong})\\b[^.,]*\\bis (?:the |its )?capital|{hedge(wrong)}")


_CREDITS = (r"\b(?:(?:written|painted|composed|made|proposed|discovered|described|founded|"
            r"given|delivered|developed) by|attributed to|credited to)\b")


def _credited(facts: tuple[Fact, ...]) -> tuple[Fact, ...]:
    """Also reject a reply that credits the work to someone else: "written by" (or painted,
    composed...) with no accepted name before the clause ends. Small models name the right
    person, then "A Christmas Carol by Charles Dickens was written by his own son"."""
    def elsewhere(right: str) -> str:  # initials ("J. K.") do not end the clause
        return f"{_CREDITS}(?!(?:[^.,;]|\\b\\w{{1,2}}\\.)*?(?:{right}))"
    return tuple(dataclasses.replace(f, reject="|".join(filter(None, (f.reject, elsewhere(
        f.accept))))) for f in facts)


def _n(n: int, *wrong: int) -> tuple[str, str]:
    """The accepted and the rejected pattern of a number answer: `n`, and no hedge that
    names one of the `wrong` numbers beside it."""
    return number(n), "|".join(hedge(number(w)) for w in wrong)


def _y(y: int, *wrong: int) -> tuple[str, str]:
    return year(y), "|".join(hedge(year(w)) for w in wrong)


CAPITALS = _rows(
    "capitals",
    ("What is the capital of Turkey?", r"\bankara\b", _not_capital("istanbul"),
     "The capital of Turkey is Ankara.", "The capital of Turkey is Istanbul."),
    ("What is the capital of Russia?", r"\bmoscow\b", _not_capital("(?:st\\.?|saint) petersburg"),
     "Moscow is the capital of Russia.", "The capital of Russia is Saint Petersburg."),
    ("What is the capital of China?", r"\bbeijing\b|\bpeking\b", _not_capital("shanghai"),
     "The capital of China is Beijing.", "It is Shanghai, or maybe Beijing."),
    ("What is the capital of the United Kingdom?", r"\blondon\b", "",
     "London is the capital of the United Kingdom.", "The capital of the UK is Manchester."),
    ("What is the capital of Brazil?", r"\bbras[ií]lia\b", _not_capital("rio|s[aã]o paulo"),
     "The capital of Brazil is Brasília.", "The capital of Brazil is Rio de Janeiro."),
    ("What is the capital of India?", r"\bdelhi\b", _not_capital("mumbai|bombay"),
     "The capital of India is New Delhi.", "The capital of India is Mumbai."),
    ("What is the capital of Mexico?", r"\bmexico city\b|\bciudad de m[eé]xico\b", "",
     "The capital of Mexico is Mexico City.", "The capital of Mexico is Guadalajara."),
    ("What is the capital of Argentina?", r"\bbuenos aires\b", "",
     "Buenos Aires is the capital of Argentina.", "The capital of Argentina is Córdoba."),
    ("What is the capital of South Korea?", r"\bseoul\b", _not_capital("busan|pyongyang"),
     "The capital of South Korea is Seoul.", "The capital of South Korea is Pyongyang."),
    ("What is the capital of Greece?", r"\bathens\b", "",
     "Athens is the capital of Greece.", "The capital of Greece is Sparta."),
    ("What is the capital of Portugal?", r"\blisbon\b|\blisboa\b", _not_capital("porto"),
     "The capital of Portugal is Lisbon.", "The capital of Portugal is Porto."),
    ("What is the capital of Switzerland?", r"\bbern\b|\bberne\b",
     _not_capital("z[uü]rich|geneva"),
     "The capital of Switzerland is Bern.", "The capital of Switzerland is Zurich."),
    ("What is the capital of New Zealand?", r"\bwellington\b", _not_capital("auckland"),
     "Wellington is the capital of New Zealand.", "It's Auckland or Wellington."),
    ("What is the capital of Ireland?", r"\bdublin\b", _not_capital("belfast|cork"),
     "The capital of Ireland is Dublin.", "The capital of Ireland is Belfast."),
)

COUNTS = _rows(
    "counts",
    ("How many legs does an insect have?", *_n(6, 4, 8),
     "An insect has six legs.", "An insect has eight legs."),
    ("How many players does a soccer team have on the field?", *_n(11, 10, 12),
     "A soccer team has eleven players on the field.", "A soccer team has ten players."),
    ("How many days are in a leap year?", *_n(366, 365),
     "A leap year has 366 days.", "A leap year has 365 days."),
    ("How many sides does an octagon have?", *_n(8, 6),
     "An octagon has eight sides.", "An octagon has six sides."),
    ("How many weeks are in a year?", *_n(52, 48),
     "There are 52 weeks in a year.", "There are fifty weeks in a year."),
    ("How many states are in the United States?", *_n(50, 51, 52),
     "The United States has fifty states.", "There are 52 states in the United States."),
    ("How many letters are in the English alphabet?", *_n(26, 24),
     "The English alphabet has 26 letters.", "The English alphabet has twenty-four letters."),
    ("How many colors are in a rainbow?", *_n(7, 6),
     "A rainbow has seven colors.", "A rainbow has six or seven colors."),
    ("How many hearts does an octopus have?", *_n(3, 1, 2),
     "An octopus has three hearts.", "An octopus has one heart."),
    ("How many keys does a standard piano have?", *_n(88, 76),
     "A standard piano has 88 keys.", "A standard piano has 76 keys."),
    ("How many rings are on the Olympic flag?", *_n(5, 6),
     "The Olympic flag has five rings.", "The Olympic flag has six rings."),
    ("How many pieces does each player have at the start of a chess game?", number(16),
     f"{hedge(number(32))}|player (?:has|gets|starts with) (?!16|sixteen)\\w+ pieces",
     "Each player starts with sixteen pieces.",
     "There are 16 pieces in all, so each player has 8 pieces."),
    ("How many days are in September?", *_n(30, 31),
     "September has thirty days.", "September has 31 days."),
    ("How many eggs are in a dozen?", number(12), f"{number(13)}|{hedge(number(10))}",
     "A dozen is twelve eggs.", "A dozen is ten eggs."),
)

UNITS = _rows(
    "units",
    ("How many seconds are in a minute?", *_n(60, 100),
     "There are sixty seconds in a minute.", "There are 100 seconds in a minute."),
    ("How many millimeters are in a centimeter?", *_n(10, 100),
     "There are ten millimeters in a centimeter.", "A centimeter has 100 millimeters."),
    ("How many meters are in a kilometer?", *_n(1000, 100),
     "A kilometer is 1,000 meters.", "A kilometer is one hundred meters."),
    ("How many inches are in a foot?", *_n(12, 10),
     "There are twelve inches in a foot.", "There are ten inches in a foot."),
    ("How many feet are in a yard?", *_n(3, 12),
     "A yard is three feet.", "A yard is 12 feet."),
    ("How many ounces are in a pound?", *_n(16, 12),
     "There are 16 ounces in a pound.", "There are twelve ounces in a pound."),
    ("How many milliliters are in a liter?", *_n(1000, 100),
     "A liter is one thousand milliliters.", "A liter has 100 milliliters."),
    ("How many seconds are in an hour?", *_n(3600, 60),
     "An hour has 3,600 seconds.", "An hour has 360 seconds."),
    ("How many days are in a year that is not a leap year?", *_n(365, 366),
     "A normal year has 365 days.", "It has 364 days."),
    ("How many years are in a century?", *_n(100, 1000),
     "A century is one hundred years.", "A century is a thousand years."),
    ("How many years are in a decade?", *_n(10, 100),
     "A decade is ten years.", "A decade is twelve years."),
    ("How many quarts are in a gallon?", *_n(4, 2),
     "There are four quarts in a gallon.", "There are eight quarts in a gallon."),
    ("How many centimeters are in an inch?",
     r"(?<![\d.])2\.54(?!\d)|two point five four", hedge(r"2\.5(?!\d)|2\.4\d*"),
     "One inch is 2.54 centimeters.", "An inch is about 2.5 centimeters."),
    ("How many minutes are in a day?", *_n(1440, 1400),
     "A day has 1,440 minutes.", "A day has 1,400 minutes."),
)

ARITHMETIC = _rows(
    "arithmetic",
    ("What is 6 plus 9?", *_n(15, 14, 16),
     "Six plus nine is fifteen.", "Six plus nine is 14."),
    ("What is 15 minus 8?", *_n(7, 6, 8),
     "Fifteen minus eight is seven.", "15 minus 8 is 6."),
    ("What is 9 times 9?", *_n(81, 72, 18),
     "Nine times nine is 81.", "Nine times nine is eighteen."),
    ("What is 12 times 12?", *_n(144, 124),
     "Twelve times twelve is 144.", "12 times 12 is 124."),
    ("What is 56 divided by 7?", *_n(8, 7),
     "56 divided by 7 is 8.", "56 divided by 7 is 9."),
    ("What is half of 50?", *_n(25, 20),
     "Half of 50 is 25.", "Half of fifty is twenty."),
    ("What is 20 percent of 50?", *_n(10, 20),
     "Twenty percent of fifty is ten.", "20 percent of 50 is 2.5."),
    ("What is 2 to the power of 10?", *_n(1024, 20, 100),
     "Two to the power of ten is 1024.", "2 to the power of 10 is 20."),
    ("What is 1000 minus 1?", *_n(999, 1001),
     "1000 minus 1 is 999.", "A thousand minus one is nine hundred."),
    ("What is 17 plus 26?", *_n(43, 42, 33),
     "17 plus 26 is 43.", "Seventeen plus twenty-six is forty-two."),
    ("What is the square root of 144?", *_n(12, 14),
     "The square root of 144 is 12.", "The square root of 144 is 14."),
    ("What is 250 plus 250?", *_n(500, 5000),
     "250 plus 250 is 500.", "250 plus 250 is 5,000."),
    ("What is 11 times 3?", *_n(33, 31),
     "Eleven times three is thirty-three.", "11 times 3 is 31."),
    ("What is a quarter of 200?", *_n(50, 25),
     "A quarter of 200 is 50.", "A quarter of 200 is 40."),
)

SCIENCE = _rows(
    "science",
    ("What is the chemical symbol for sodium?", r"\bna\b", "",
     "The chemical symbol for sodium is Na.", "The chemical symbol for sodium is S."),
    ("What is the chemical symbol for iron?", r"\bfe\b", "",
     "The chemical symbol for iron is Fe.", "The chemical symbol for iron is Ir."),
    ("What force keeps us on the ground?", r"\bgravity\b|\bgravitation", hedge("magnetism"),
     "Gravity keeps us on the ground.", "Magnetism keeps us on the ground."),
    ("How many chambers does the human heart have?", *_n(4, 2, 3),
     "The human heart has four chambers.", "The human heart has two chambers."),
    ("How many bones are in the adult human body?", *_n(206, 208, 212),
     "An adult human has 206 bones.", "An adult has about 300 bones."),
    ("What is the largest organ of the human body?", r"\bskin\b", hedge("liver"),
     "The skin is the largest organ.", "The largest organ is the liver."),
    ("What is the center of an atom called?", r"\bnucleus\b", hedge("electron|proton"),
     "The center of an atom is the nucleus.", "The center of an atom is the electron."),
    ("Roughly how fast is light, in kilometers per second?",
     r"(?<![\d.,])(?:299|300|186)[, ]?(?:000|79\d|282)\b|three hundred thousand", "",
     "Light travels about 300,000 kilometers per second.",
     "Light travels about 3,000 kilometers per second."),
    ("Which planet is famous for its rings?", r"\bsaturn\b", hedge("jupiter|uranus"),
     "Saturn is famous for its rings.", "Jupiter is famous for its rings."),
    ("What do caterpillars turn into?", r"\bbutterfl|\bmoths?\b", "",
     "Caterpillars turn into butterflies or moths.", "Caterpillars turn into beetles."),
    ("Is a whale a fish or a mammal?", r"\bmammals?\b", r"\bis a fish\b|\bfish,? not\b",
     "A whale is a mammal.", "A whale is a fish."),
    ("What is the most common gas in Earth's atmosphere?", r"\bnitrogen\b", hedge("oxygen"),
     "Nitrogen is the most common gas in the atmosphere.",
     "It is oxygen or nitrogen."),
    ("What is the hottest planet in our solar system?", r"\bvenus\b", hedge("mercury"),
     "Venus is the hottest planet.", "Mercury is the hottest planet."),
    ("What do we call animals that eat only plants?", r"\bherbivor",
     r"herbivor\w* (?:and|or) (?:omni|carni)vor|(?:omni|carni)vor\w*,? (?:and|or) herbivor",
     "They are called herbivores.", "This includes both herbivores and omnivores."),
)

HISTORY = _rows(
    "history",
    ("In which year did the First World War begin?", *_y(1914, 1918),
     "The First World War began in 1914.", "It began in 1918."),
    ("In which year did people first land on the moon?", *_y(1969, 1968),
     "People first landed on the moon in 1969.", "The first moon landing was in 1972."),
    ("In which year did Columbus first reach the Americas?", *_y(1492, 1493),
     "Columbus reached the Americas in fourteen ninety-two.", "Columbus arrived in 1592."),
    ("In which year did the Berlin Wall fall?", *_y(1989, 1990),
     "The Berlin Wall fell in 1989.", "The Berlin Wall fell in 1991."),
    ("In which year did the Titanic sink?", *_y(1912, 1911),
     "The Titanic sank in 1912.", "The Titanic sank in 1915."),
    ("In which year did the United States declare independence?", *_y(1776, 1787),
     "The United States declared independence in 1776.", "It was in 1789."),
    ("Who was the first emperor of Rome?", r"\baugustus\b|\boctavian", hedge("julius caesar"),
     "The first Roman emperor was Augustus.", "The first emperor of Rome was Julius Caesar."),
    ("Which ancient people built the pyramids of Giza?", r"\begypt", "",
     "The ancient Egyptians built the pyramids of Giza.", "The Romans built them."),
    ("Who was the British prime minister for most of the Second World War?", r"churchill",
     hedge("chamberlain"),
     "Winston Churchill led Britain for most of the war.", "It was Neville Chamberlain."),
    ("What was the name of the ship that took the Pilgrims to America in 1620?",
     r"\bmayflower\b", "",
     "The Pilgrims sailed on the Mayflower.", "The Pilgrims sailed on the Santa Maria."),
    ("Which country gave the Statue of Liberty to the United States?",
     r"(?<!for )\bfrance\b|\bfrench\b",
     hedge("england|britain|spain"),
     "France gave the Statue of Liberty to the United States.",
     "It was built for France, then moved to America."),
    ("In which year did the Second World War begin?", *_y(1939, 1941),
     "The Second World War began in 1939.", "The Second World War began in 1941."),
    ("In which city was President John F. Kennedy assassinated?", r"\bdallas\b", "",
     "Kennedy was assassinated in Dallas.", "Kennedy was shot in Washington."),
    ("In which year did the French Revolution begin?", *_y(1789, 1799),
     "The French Revolution began in 1789.", "The French Revolution began in 1799."),
)

PEOPLE = _credited(_rows(
    "people",
    ("Who wrote Pride and Prejudice?", r"\bausten\b", hedge("bront[eë]"),
     "Pride and Prejudice was written by Jane Austen.", "It was written by Charlotte Brontë."),
    ("Who painted The Starry Night?", r"van gogh|\bgogh\b", hedge("monet"),
     "The Starry Night was painted by Vincent van Gogh.", "Claude Monet painted it."),
    ("Who discovered penicillin?", r"\bfleming\b", hedge("pasteur"),
     "Alexander Fleming discovered penicillin.", "Louis Pasteur discovered penicillin."),
    ("Who proposed the theory of evolution by natural selection?", r"\bdarwin\b",
     hedge("lamarck|mendel"),
     "Charles Darwin proposed it.", "Gregor Mendel proposed it."),
    ("Which composer wrote the Moonlight Sonata?", r"\bbeethoven\b", hedge("mozart"),
     "Beethoven wrote the Moonlight Sonata.", "Mozart wrote the Moonlight Sonata."),
    ("Who was the first woman to win a Nobel Prize?", r"\bcurie\b", "",
     "Marie Curie was the first woman to win a Nobel Prize.", "It was Mother Teresa."),
    ("Who wrote the Harry Potter books?", r"\browling\b", "",
     "Harry Potter was written by J. K. Rowling.", "Harry Potter was written by Tolkien."),
    ("Who founded Microsoft together with Paul Allen?", r"\bgates\b", hedge("jobs"),
     "Bill Gates founded Microsoft with Paul Allen.", "Steve Jobs founded it with Allen."),
    ("Who described the laws of motion and universal gravitation?", r"\bnewton\b",
     hedge("galileo|einstein"),
     "Isaac Newton described them.", "Albert Einstein described them."),
    ("Who painted the ceiling of the Sistine Chapel?", r"michelangelo", hedge("raphael"),
     "Michelangelo painted the Sistine Chapel ceiling.", "Raphael painted it."),
    ("Who was the first person in space?", r"\bgagarin\b", hedge("armstrong|shepard"),
     "Yuri Gagarin was the first person in space.", "Neil Armstrong was the first in space."),
    ("Who wrote A Christmas Carol?", r"\bdickens\b", "",
     "A Christmas Carol was written by Charles Dickens.",
     "A Christmas Carol by Charles Dickens was written by his own son."),
    ("Who gave the I Have a Dream speech?", r"luther king|\bmlk\b", hedge("malcolm x"),
     "Martin Luther King Jr. gave that speech.", "Malcolm X gave that speech."),
    ("Who was the first female prime minister of the United Kingdom?", r"\bthatcher\b",
     hedge("theresa may"),
     "Margaret Thatcher was the first female prime minister.", "It was Theresa May."),
))

EVERYDAY = _rows(
    "everyday",
    ("What color do you get when you mix blue and yellow?", r"\bgreen\b", hedge("purple"),
     "Blue and yellow make green.", "Blue and yellow make purple."),
    ("What color do you get when you mix red and white?", r"\bpink\b", hedge("orange"),
     "Red and white make pink.", "Red and white make orange."),
    ("What is the opposite of hot?", r"\bcold\b", "",
     "The opposite of hot is cold.", "The opposite of hot is warm."),
    ("Which day comes after Friday?", r"\bsaturday\b", hedge("sunday|thursday"),
     "Saturday comes after Friday.", "Sunday comes after Friday."),
    ("Which month comes after June?", r"\bjuly\b", hedge("may|august"),
     "July comes after June.", "August comes after June."),
    ("What is frozen water called?", r"\bice\b", "",
     "Frozen water is called ice.", "Frozen water is called steam."),
    ("What do you call a baby cat?", r"\bkitten|\bkitty\b", "",
     "A baby cat is called a kitten.", "A baby cat is called a cub."),
    ("What do you call a baby dog?", r"\bpupp(?:y|ies)\b|\bpups?\b", "",
     "A baby dog is called a puppy.", "A baby dog is called a kitten."),
    ("What color is a ripe banana?", r"\byellow\b", hedge("green"),
     "A ripe banana is yellow.", "A ripe banana is green."),
    ("What is the main ingredient of guacamole?", r"\bavocados?\b", "",
     "The main ingredient of guacamole is avocado.", "Guacamole is made from tomatoes."),
    ("What is the currency of the United Kingdom?", r"\bpounds?\b|\bsterling\b|\bquid\b",
     hedge("euros?"),
     "The currency of the UK is the pound sterling.", "The UK uses the euro."),
    ("What language is mainly spoken in Mexico?", r"\bspanish\b", hedge("portuguese"),
     "Most people in Mexico speak Spanish.", "People in Mexico mainly speak Portuguese."),
    ("What do adult cows drink?", r"\bwater\b", hedge("milk"),
     "Adult cows drink water.", "Adult cows drink milk."),
    ("What is the largest country in the world by area?", r"\brussia", hedge("canada|china"),
     "Russia is the largest country by area.", "Canada is the largest country by area."),
    ("In which season do trees lose their leaves?",
     r"\bautumn\b|\b(?:in|during|the) (?:the )?fall\b|\bfall season\b",
     f"\\b(?:spring|summer)\\b|{hedge('winter')}",
     "Trees lose their leaves in autumn.", "Trees lose their leaves in autumn and spring."),
)

NEW_FACTS: tuple[Fact, ...] = (*CAPITALS, *COUNTS, *UNITS, *ARITHMETIC, *SCIENCE, *HISTORY,
                               *PEOPLE, *EVERYDAY)
