"""Hand-written groups for the cache's labeled pairs (see ``bench/cache_pairs.py``).

Each group: a question, rewordings that must get the same answer, and near-misses
that must not (each with the kind of difference). Labels are by meaning: a
rewording is one where the cached answer to the question would be right, word
for word; a near-miss is one where it would be wrong or misleading.
"""

from __future__ import annotations

GROUPS: list[tuple[str, list[str], list[tuple[str, str]]]] = [
    (
        "How do I reverse a list in Python?",
        [
            "What's the way to reverse a Python list?",
            "How can I reverse a list in Python?",
            "In Python, how do you reverse a list?",
        ],
        [
            ("intent", "How do I sort a list in Python?"),
            ("entity", "How do I reverse a list in JavaScript?"),
            ("intent", "How do I reverse a string in Python?"),
            ("negation", "How do I iterate over a list in Python without reversing it?"),
        ],
    ),
    (
        "What is the boiling point of water at sea level?",
        [
            "At sea level, what temperature does water boil at?",
            "What temperature does water boil at at sea level?",
            "At what temperature does water boil at sea level?",
        ],
        [
            ("intent", "What is the freezing point of water at sea level?"),
            ("entity", "What is the boiling point of ethanol at sea level?"),
            ("number", "What is the boiling point of water at 3000 meters altitude?"),
            ("intent", "What is the boiling point of water on Mount Everest?"),
        ],
    ),
    (
        "Is it safe to take ibuprofen with coffee?",
        [
            "Can I safely take ibuprofen with coffee?",
            "Is taking ibuprofen with coffee safe?",
            "Is it OK to drink coffee when taking ibuprofen?",
        ],
        [
            ("entity", "Is it safe to take ibuprofen with alcohol?"),
            ("negation", "Why is it not safe to take ibuprofen with coffee?"),
            ("entity", "Is it safe to take aspirin with coffee?"),
            ("number", "Is it safe to take 800 mg of ibuprofen with coffee?"),
        ],
    ),
    (
        "How many days are there in a leap year?",
        [
            "How many days does a leap year have?",
            "What is the number of days in a leap year?",
            "A leap year has how many days?",
        ],
        [
            ("negation", "How many days are there in a year that is not a leap year?"),
            ("intent", "How often does a leap year occur?"),
            ("intent", "How many weeks are there in a leap year?"),
            ("date", "How many days are there in February in a leap year?"),
        ],
    ),
    (
        "What is the capital of Australia?",
        [
            "Which city is the capital of Australia?",
            "What's Australia's capital city?",
            "Name the capital city of Australia.",
        ],
        [
            ("entity", "What is the capital of Austria?"),
            ("intent", "What is the largest city in Australia?"),
            ("entity", "What is the capital of New Zealand?"),
            ("intent", "What is the population of Australia?"),
        ],
    ),
    (
        "Convert 5 miles to kilometers.",
        [
            "How many kilometers are in 5 miles?",
            "What is 5 miles in kilometers?",
            "5 miles equals how many kilometers?",
        ],
        [
            ("number", "Convert 50 miles to kilometers."),
            ("number", "Convert 15 miles to kilometers."),
            ("intent", "Convert 5 kilometers to miles."),
            ("number", "Convert 5.5 miles to kilometers."),
        ],
    ),
    (
        "Who wrote Pride and Prejudice?",
        [
            "Who is the author of Pride and Prejudice?",
            "Pride and Prejudice was written by whom?",
            "Who's the writer of Pride and Prejudice?",
        ],
        [
            ("entity", "Who wrote Sense and Sensibility?"),
            ("intent", "When was Pride and Prejudice written?"),
            ("entity", "Who wrote Wuthering Heights?"),
            ("intent", "What is Pride and Prejudice about?"),
        ],
    ),
    (
        "How do I center a div horizontally with CSS?",
        [
            "What's the CSS to horizontally center a div?",
            "How can I horizontally center a div using CSS?",
            "Using CSS, how do you center a div horizontally?",
        ],
        [
            ("intent", "How do I center a div vertically with CSS?"),
            ("intent", "How do I hide a div with CSS?"),
            ("negation", "Why does my div not center horizontally with CSS?"),
            ("entity", "How do I center a div horizontally with Tailwind?"),
        ],
    ),
    (
        "What are the symptoms of vitamin D deficiency?",
        [
            "What symptoms does vitamin D deficiency cause?",
            "What are signs of a vitamin D deficiency?",
            "How does vitamin D deficiency show itself?",
        ],
        [
            ("entity", "What are the symptoms of vitamin B12 deficiency?"),
            ("intent", "What are the symptoms of too much vitamin D?"),
            ("intent", "How do I treat vitamin D deficiency?"),
            ("entity", "What are the symptoms of iron deficiency?"),
        ],
    ),
    (
        "Can dogs eat grapes?",
        [
            "Are grapes safe for dogs to eat?",
            "Is it okay for dogs to eat grapes?",
            "Can a dog eat grapes?",
        ],
        [
            ("entity", "Can cats eat grapes?"),
            ("entity", "Can dogs eat blueberries?"),
            ("negation", "Why can't dogs eat grapes?"),
            ("intent", "What should I do if my dog ate grapes?"),
        ],
    ),
    (
        "How long should I boil an egg for a soft yolk?",
        [
            "For a soft yolk, how long do I boil an egg?",
            "How many minutes do I boil an egg to get a soft yolk?",
            "What's the boiling time for a soft-yolk egg?",
        ],
        [
            ("intent", "How long should I boil an egg for a hard yolk?"),
            ("number", "How long should I boil 12 eggs for a soft yolk?"),
            ("intent", "How long should I poach an egg for a soft yolk?"),
            ("intent", "How do I peel a soft-boiled egg?"),
        ],
    ),
    (
        "What is the time complexity of binary search?",
        [
            "What's binary search's time complexity?",
            "How fast is binary search in big-O terms?",
            "What is the big-O running time of binary search?",
        ],
        [
            ("intent", "What is the space complexity of binary search?"),
            ("intent", "What is the time complexity of linear search?"),
            ("intent", "What is the time complexity of merge sort?"),
            ("negation", "When does binary search not work?"),
        ],
    ),
    (
        "What's the difference between a virus and a bacterium?",
        [
            "How do viruses differ from bacteria?",
            "What is the difference between viruses and bacteria?",
            "How is a virus different from a bacterium?",
        ],
        [
            ("intent", "What's the difference between a virus and a fungus?"),
            ("intent", "Do antibiotics work against viruses?"),
            ("intent", "What's the difference between a bacterium and an archaeon?"),
            ("intent", "How do viruses reproduce?"),
        ],
    ),
    (
        "How do I undo the last git commit?",
        [
            "What's the command to undo my last commit in git?",
            "How can I undo the most recent git commit?",
            "In git, how do I undo the last commit?",
        ],
        [
            ("number", "How do I undo the last 3 git commits?"),
            ("intent", "How do I undo a git push?"),
            ("negation", "How do I undo the last git commit without losing my changes?"),
            ("intent", "How do I amend the last git commit message?"),
        ],
    ),
    (
        "What year did World War II end?",
        [
            "When did World War II end?",
            "In what year did the Second World War end?",
            "What year was the end of WWII?",
        ],
        [
            ("number", "What year did World War I end?"),
            ("intent", "What year did World War II start?"),
            ("intent", "How did World War II end?"),
            ("intent", "Who won World War II?"),
        ],
    ),
    (
        "How many calories are in a banana?",
        [
            "What is the calorie count of a banana?",
            "How many calories does a banana have?",
            "A banana contains how many calories?",
        ],
        [
            ("entity", "How many calories are in an apple?"),
            ("number", "How many calories are in 3 bananas?"),
            ("intent", "How much potassium is in a banana?"),
            ("intent", "How many carbs are in a banana?"),
        ],
    ),
    (
        "Explain how photosynthesis works.",
        [
            "How does photosynthesis work?",
            "Describe the process of photosynthesis.",
            "Can you explain the process of photosynthesis?",
        ],
        [
            ("intent", "Explain how cellular respiration works."),
            ("intent", "Why is photosynthesis important?"),
            ("intent", "Where does photosynthesis take place in a plant?"),
            ("negation", "Why can't animals do photosynthesis?"),
        ],
    ),
    (
        "What is the speed of light in a vacuum?",
        [
            "How fast does light travel in a vacuum?",
            "What's the speed of light in vacuum?",
            "In a vacuum, how fast is light?",
        ],
        [
            ("entity", "What is the speed of sound in air?"),
            ("entity", "What is the speed of light in water?"),
            ("intent", "Why is the speed of light constant?"),
            ("intent", "How long does light take to reach Earth from the Sun?"),
        ],
    ),
    (
        "How do I make a cup of green tea?",
        [
            "What's the best way to brew a cup of green tea?",
            "How should I brew green tea?",
            "How do you make green tea?",
        ],
        [
            ("entity", "How do I make a cup of black tea?"),
            ("intent", "What are the health benefits of green tea?"),
            ("intent", "How much caffeine is in green tea?"),
            ("number", "How do I make 4 cups of green tea?"),
        ],
    ),
    (
        "What does HTTP status code 404 mean?",
        [
            "What is the meaning of HTTP 404?",
            "What does a 404 status code mean in HTTP?",
            "What's an HTTP 404 error?",
        ],
        [
            ("number", "What does HTTP status code 403 mean?"),
            ("number", "What does HTTP status code 500 mean?"),
            ("number", "What does HTTP status code 401 mean?"),
            ("intent", "How do I fix a 404 error on my website?"),
        ],
    ),
    (
        "How tall is Mount Everest?",
        [
            "What is the height of Mount Everest?",
            "How high is Mount Everest?",
            "What's Mount Everest's elevation?",
        ],
        [
            ("entity", "How tall is K2?"),
            ("entity", "How tall is Mount Kilimanjaro?"),
            ("intent", "Who first climbed Mount Everest?"),
            ("intent", "Where is Mount Everest located?"),
        ],
    ),
    (
        "What should I pack for a weekend trip to the beach?",
        [
            "What do I need to pack for a beach weekend?",
            "What should I bring on a weekend beach trip?",
            "Packing list for a weekend at the beach?",
        ],
        [
            ("intent", "What should I pack for a weekend ski trip?"),
            ("number", "What should I pack for a 2-week trip to the beach?"),
            ("intent", "What should I pack for a business trip?"),
            ("negation", "What should I not bring to the beach?"),
        ],
    ),
    (
        "How do I reset my router to factory settings?",
        [
            "How can I factory reset my router?",
            "What's the way to restore my router to factory defaults?",
            "How do I do a factory reset on my router?",
        ],
        [
            ("intent", "How do I restart my router?"),
            ("intent", "How do I change my router's password?"),
            ("intent", "How do I update my router's firmware?"),
            ("negation", "How do I fix my router without resetting it?"),
        ],
    ),
    (
        "What is the square root of 144?",
        [
            "What's the square root of 144?",
            "Calculate the square root of 144.",
            "Compute the square root of 144.",
        ],
        [
            ("number", "What is the square root of 169?"),
            ("intent", "What is the cube root of 144?"),
            ("intent", "What is 144 squared?"),
            ("number", "What is the square root of 1440?"),
        ],
    ),
    (
        "Why is the sky blue?",
        [
            "What makes the sky blue?",
            "Why does the sky look blue?",
            "What causes the sky to appear blue?",
        ],
        [
            ("intent", "Why is the sky red at sunset?"),
            ("intent", "Why is the ocean blue?"),
            ("negation", "Why is the sky not blue at night?"),
            ("entity", "Why is the sky on Mars red?"),
        ],
    ),
    (
        "How do I declare a constant in JavaScript?",
        [
            "What's the way to declare a constant in JavaScript?",
            "In JavaScript, how do you declare a constant?",
            "How can I define a constant in JavaScript?",
        ],
        [
            ("entity", "How do I declare a constant in Python?"),
            ("intent", "How do I declare a variable in JavaScript?"),
            ("entity", "How do I declare a constant in Rust?"),
            ("intent", "How do I declare a function in JavaScript?"),
        ],
    ),
    (
        "What is the recommended daily water intake for adults?",
        [
            "How much water should an adult drink every day?",
            "What is the daily recommended amount of water for adults?",
            "How much water should adults drink each day?",
        ],
        [
            ("intent", "What is the recommended daily water intake for children?"),
            ("intent", "What is the recommended daily protein intake for adults?"),
            ("intent", "What happens if you drink too much water?"),
            ("intent", "What is the recommended daily caffeine limit for adults?"),
        ],
    ),
    (
        "Who painted the Mona Lisa?",
        [
            "Who is the painter of the Mona Lisa?",
            "The Mona Lisa was painted by whom?",
            "Which artist painted the Mona Lisa?",
        ],
        [
            ("entity", "Who painted The Starry Night?"),
            ("entity", "Who painted The Last Supper?"),
            ("intent", "Where is the Mona Lisa displayed?"),
            ("intent", "When was the Mona Lisa painted?"),
        ],
    ),
    (
        "What is the difference between RAM and ROM?",
        [
            "How is RAM different from ROM?",
            "What distinguishes RAM from ROM?",
            "RAM vs ROM: what's the difference?",
        ],
        [
            ("entity", "What is the difference between RAM and SSD?"),
            ("intent", "How much RAM do I need for gaming?"),
            ("entity", "What is the difference between DRAM and SRAM?"),
            ("intent", "What does ROM stand for?"),
        ],
    ),
    (
        "How do I open a CSV file in pandas?",
        [
            "How can I read a CSV file with pandas?",
            "What's the pandas function to load a CSV file?",
            "How do I load a CSV into a pandas DataFrame?",
        ],
        [
            ("entity", "How do I open an Excel file in pandas?"),
            ("intent", "How do I write a CSV file in pandas?"),
            ("entity", "How do I open a JSON file in pandas?"),
            ("negation", "How do I open a CSV file in pandas without a header row?"),
        ],
    ),
    (
        "What is the population of Tokyo?",
        [
            "How many people live in Tokyo?",
            "What's Tokyo's population?",
            "How many inhabitants does Tokyo have?",
        ],
        [
            ("entity", "What is the population of Osaka?"),
            ("entity", "What is the population of Beijing?"),
            ("intent", "What is the area of Tokyo?"),
            ("intent", "What is the population density of Tokyo?"),
        ],
    ),
    (
        "How do I fix a leaking kitchen faucet?",
        [
            "How can I repair a kitchen faucet that leaks?",
            "What's the fix for a leaky kitchen faucet?",
            "My kitchen faucet is leaking; how do I fix it?",
        ],
        [
            ("intent", "How do I fix a running toilet?"),
            ("intent", "How do I install a new kitchen faucet?"),
            ("intent", "How do I fix a clogged kitchen sink?"),
            ("intent", "How do I fix a leaking bathroom shower head?"),
        ],
    ),
    (
        "Summarize the plot of Hamlet.",
        [
            "Give me a summary of Hamlet's plot.",
            "What is the plot of Hamlet in brief?",
            "Briefly, what happens in Hamlet?",
        ],
        [
            ("entity", "Summarize the plot of Macbeth."),
            ("entity", "Summarize the plot of Othello."),
            ("intent", "Who are the main characters in Hamlet?"),
            ("intent", "When was Hamlet written?"),
        ],
    ),
    (
        "What is the normal resting heart rate for adults?",
        [
            "What's a normal resting heart rate for an adult?",
            "For adults, what is a normal resting heart rate?",
            "What resting heart rate is normal in adults?",
        ],
        [
            ("intent", "What is the normal resting heart rate for newborns?"),
            ("intent", "What is the normal blood pressure for adults?"),
            ("intent", "What is the maximum heart rate during exercise?"),
            ("negation", "What does it mean if my resting heart rate is not normal?"),
        ],
    ),
    (
        "How do I list all files in a directory in Linux?",
        [
            "What command lists all files in a Linux directory?",
            "In Linux, how do I list every file in a directory?",
            "How can I see all the files in a directory on Linux?",
        ],
        [
            ("intent", "How do I delete all files in a directory in Linux?"),
            ("entity", "How do I list all files in a directory in Windows?"),
            ("intent", "How do I count the files in a directory in Linux?"),
            ("negation", "How do I list files in a directory in Linux without hidden files?"),
        ],
    ),
    (
        "When is the best time to visit Japan?",
        [
            "What is the best season to visit Japan?",
            "What's the ideal time of year to travel to Japan?",
            "When should I visit Japan?",
        ],
        [
            ("entity", "When is the best time to visit Thailand?"),
            ("entity", "When is the best time to visit Iceland?"),
            ("intent", "Do I need a visa to visit Japan?"),
            ("date", "What is the weather like in Japan in December?"),
        ],
    ),
    (
        "What is the formula for the area of a circle?",
        [
            "How do you calculate the area of a circle?",
            "What's the area formula for a circle?",
            "How is the area of a circle calculated?",
        ],
        [
            ("intent", "What is the formula for the circumference of a circle?"),
            ("entity", "What is the formula for the area of a triangle?"),
            ("intent", "What is the formula for the volume of a sphere?"),
            ("number", "What is the area of a circle with radius 3?"),
        ],
    ),
    (
        "How do I install Node.js on Ubuntu?",
        [
            "What's the way to install Node.js on Ubuntu?",
            "How can I install Node.js on an Ubuntu machine?",
            "On Ubuntu, how do I install Node.js?",
        ],
        [
            ("entity", "How do I install Node.js on Windows?"),
            ("entity", "How do I install Python on Ubuntu?"),
            ("intent", "How do I uninstall Node.js on Ubuntu?"),
            ("intent", "How do I update Node.js on Ubuntu?"),
        ],
    ),
    (
        "What is the chemical symbol for gold?",
        [
            "What's gold's chemical symbol?",
            "Which chemical symbol stands for gold?",
            "What symbol does gold have on the periodic table?",
        ],
        [
            ("entity", "What is the chemical symbol for silver?"),
            ("entity", "What is the chemical symbol for iron?"),
            ("intent", "What is the atomic number of gold?"),
            ("intent", "What is the melting point of gold?"),
        ],
    ),
    (
        "How do I improve my credit score?",
        [
            "What can I do to raise my credit score?",
            "How can I improve my credit score?",
            "What are ways to boost my credit score?",
        ],
        [
            ("intent", "How do I check my credit score?"),
            ("intent", "What is a good credit score?"),
            ("number", "How do I improve my credit score by 100 points?"),
            ("negation", "Why is my credit score not improving?"),
        ],
    ),
    (
        "Is a tomato a fruit or a vegetable?",
        [
            "Are tomatoes fruits or vegetables?",
            "Is the tomato classified as a fruit or a vegetable?",
            "Should a tomato be called a fruit or a vegetable?",
        ],
        [
            ("entity", "Is a cucumber a fruit or a vegetable?"),
            ("entity", "Is an avocado a fruit or a vegetable?"),
            ("intent", "Is a tomato a berry?"),
            ("intent", "How do I grow tomatoes?"),
        ],
    ),
    (
        "What is the minimum wage in California?",
        [
            "What's California's minimum wage?",
            "How much is the minimum wage in California?",
            "In California, what is the minimum wage?",
        ],
        [
            ("entity", "What is the minimum wage in Texas?"),
            ("entity", "What is the minimum wage in New York?"),
            ("date", "What was the minimum wage in California in 2015?"),
            ("intent", "What is the average salary in California?"),
        ],
    ),
    (
        "How do I convert a string to an integer in Java?",
        [
            "In Java, how do you convert a string to an int?",
            "What's the way to parse a string into an integer in Java?",
            "How can I turn a string into an integer in Java?",
        ],
        [
            ("intent", "How do I convert an integer to a string in Java?"),
            ("entity", "How do I convert a string to an integer in C++?"),
            ("intent", "How do I convert a string to a double in Java?"),
            ("entity", "How do I convert a string to an integer in Go?"),
        ],
    ),
    (
        "What are the side effects of the flu vaccine?",
        [
            "What side effects can the flu vaccine cause?",
            "What are the flu shot's side effects?",
            "Does the flu vaccine have side effects, and what are they?",
        ],
        [
            ("entity", "What are the side effects of the shingles vaccine?"),
            ("intent", "How effective is the flu vaccine?"),
            ("intent", "When should I get the flu vaccine?"),
            ("negation", "Who should not get the flu vaccine?"),
        ],
    ),
    (
        "How many players are on a soccer team?",
        [
            "How many players does a soccer team have on the field?",
            "What is the number of players on a soccer team?",
            "A soccer team has how many players?",
        ],
        [
            ("entity", "How many players are on a basketball team?"),
            ("entity", "How many players are on a rugby team?"),
            ("intent", "How long is a soccer match?"),
            ("entity", "How many players are on a volleyball team?"),
        ],
    ),
    (
        "What is the tallest building in the world?",
        [
            "Which building is the world's tallest?",
            "What's the world's tallest building?",
            "Name the tallest building in the world.",
        ],
        [
            ("intent", "What is the tallest building in Europe?"),
            ("number", "What is the second tallest building in the world?"),
            ("intent", "What is the tallest mountain in the world?"),
            ("intent", "What is the oldest building in the world?"),
        ],
    ),
    (
        "How do I remove a red wine stain from carpet?",
        [
            "How can I get red wine out of a carpet?",
            "What's the best way to remove red wine stains from carpet?",
            "How do I clean a red wine stain on my carpet?",
        ],
        [
            ("entity", "How do I remove a coffee stain from carpet?"),
            ("intent", "How do I remove a red wine stain from a white shirt?"),
            ("entity", "How do I remove a blood stain from carpet?"),
            ("intent", "How do I remove pet odor from carpet?"),
        ],
    ),
    (
        "What is the meaning of the idiom 'break the ice'?",
        [
            "What does the idiom 'break the ice' mean?",
            "What's the meaning of 'break the ice'?",
            "Explain the idiom 'break the ice'.",
        ],
        [
            ("intent", "What is the meaning of the idiom 'spill the beans'?"),
            ("intent", "What is the meaning of the idiom 'hit the sack'?"),
            ("intent", "What is the origin of the idiom 'break the ice'?"),
            ("intent", "What is the meaning of the idiom 'break a leg'?"),
        ],
    ),
    (
        "How long does it take to fly from London to New York?",
        [
            "What is the flight time from London to New York?",
            "How long is a flight from London to New York?",
            "How many hours is the flight from London to New York?",
        ],
        [
            ("entity", "How long does it take to fly from London to Tokyo?"),
            ("intent", "How long does it take to fly from New York to London?"),
            ("entity", "How long does it take to fly from Paris to New York?"),
            ("intent", "How much does a flight from London to New York cost?"),
        ],
    ),
    (
        "What is a good name for a golden retriever puppy?",
        [
            "Can you suggest a name for a golden retriever puppy?",
            "Give me a good name for a golden retriever puppy.",
            "Suggest a name for my golden retriever puppy.",
        ],
        [
            ("entity", "What is a good name for a black cat?"),
            ("number", "What are 10 good names for golden retriever puppies?"),
            ("intent", "How do I train a golden retriever puppy?"),
            ("intent", "What should I feed a golden retriever puppy?"),
        ],
    ),
    (
        "Translate 'good morning' into Spanish.",
        [
            "How do you say 'good morning' in Spanish?",
            "What is 'good morning' in Spanish?",
            "What's the Spanish for 'good morning'?",
        ],
        [
            ("entity", "Translate 'good morning' into French."),
            ("intent", "Translate 'good night' into Spanish."),
            ("entity", "Translate 'good morning' into German."),
            ("intent", "Translate 'thank you' into Spanish."),
        ],
    ),
    (
        "How much sleep does a teenager need?",
        [
            "How many hours of sleep do teenagers need?",
            "What amount of sleep does a teenager need?",
            "How many hours should a teenager sleep?",
        ],
        [
            ("intent", "How much sleep does a newborn need?"),
            ("intent", "How much sleep does an adult need?"),
            ("intent", "How much exercise does a teenager need?"),
            ("negation", "What happens when teenagers do not get enough sleep?"),
        ],
    ),
    (
        "What causes earthquakes?",
        [
            "Why do earthquakes happen?",
            "What is the cause of earthquakes?",
            "How are earthquakes caused?",
        ],
        [
            ("intent", "What causes tsunamis?"),
            ("intent", "What causes volcanic eruptions?"),
            ("intent", "How are earthquakes measured?"),
            ("intent", "How do I prepare for an earthquake?"),
        ],
    ),
    (
        "Write a haiku about autumn leaves.",
        [
            "Compose a haiku about autumn leaves.",
            "Can you write a haiku on autumn leaves?",
            "Write me a haiku about the leaves in autumn.",
        ],
        [
            ("date", "Write a haiku about spring flowers."),
            ("intent", "Write a limerick about autumn leaves."),
            ("date", "Write a haiku about winter snow."),
            ("number", "Write 3 haikus about autumn leaves."),
        ],
    ),
    (
        "How do I calculate compound interest?",
        [
            "What is the formula for compound interest?",
            "How is compound interest calculated?",
            "How do you work out compound interest?",
        ],
        [
            ("intent", "How do I calculate simple interest?"),
            ("number", "How much is $1000 at 5% compound interest after 10 years?"),
            ("intent", "What is the difference between compound and simple interest?"),
            ("intent", "How do I calculate a mortgage payment?"),
        ],
    ),
    (
        "What is the largest planet in our solar system?",
        [
            "Which planet in our solar system is the biggest?",
            "What's the biggest planet in the solar system?",
            "Name the largest planet in the solar system.",
        ],
        [
            ("intent", "What is the smallest planet in our solar system?"),
            ("intent", "What is the hottest planet in our solar system?"),
            ("number", "What is the second largest planet in our solar system?"),
            ("intent", "What is the largest moon in our solar system?"),
        ],
    ),
    (
        "How do I make my sourdough starter more active?",
        [
            "How can I make my sourdough starter more active?",
            "What can I do to get a more active sourdough starter?",
            "How do I get my sourdough starter to be more active?",
        ],
        [
            ("intent", "How do I make a sourdough starter from scratch?"),
            ("negation", "Why is my sourdough starter not rising?"),
            ("intent", "How do I store a sourdough starter in the fridge?"),
            ("intent", "How do I make sourdough bread less sour?"),
        ],
    ),
    (
        "What is the difference between affect and effect?",
        [
            "How do 'affect' and 'effect' differ?",
            "What's the difference between 'affect' and 'effect'?",
            "Affect vs effect: what is the difference?",
        ],
        [
            ("intent", "What is the difference between then and than?"),
            ("intent", "What is the difference between its and it's?"),
            ("intent", "What is the difference between fewer and less?"),
            ("intent", "What is the difference between who and whom?"),
        ],
    ),
    (
        "How do I cancel my Netflix subscription?",
        [
            "How can I cancel my Netflix subscription?",
            "What are the steps to cancel Netflix?",
            "How do I end my Netflix subscription?",
        ],
        [
            ("entity", "How do I cancel my Spotify subscription?"),
            ("intent", "How do I pause my Netflix subscription?"),
            ("intent", "How do I change my Netflix plan?"),
            ("entity", "How do I cancel my Hulu subscription?"),
        ],
    ),
    (
        "What is the freezing point of water in Fahrenheit?",
        [
            "At what Fahrenheit temperature does water freeze?",
            "In Fahrenheit, what is water's freezing point?",
            "What temperature in Fahrenheit does water freeze at?",
        ],
        [
            ("entity", "What is the freezing point of water in Celsius?"),
            ("intent", "What is the boiling point of water in Fahrenheit?"),
            ("entity", "What is the freezing point of water in Kelvin?"),
            ("entity", "What is the freezing point of salt water in Fahrenheit?"),
        ],
    ),
    (
        "Recommend a good book for learning statistics.",
        [
            "What's a good book to learn statistics?",
            "Can you recommend a book for learning statistics?",
            "Suggest a good book for learning statistics.",
        ],
        [
            ("intent", "Recommend a good book for learning calculus."),
            ("intent", "Recommend a good online course for learning statistics."),
            ("number", "Recommend 5 good books for learning statistics."),
            ("intent", "Recommend a good book for learning machine learning."),
        ],
    ),
    (
        "Is it going to rain in Seattle tomorrow?",
        [
            "Will it rain in Seattle tomorrow?",
            "Does the forecast say rain in Seattle tomorrow?",
            "Is rain expected in Seattle tomorrow?",
        ],
        [
            ("date", "Is it going to rain in Seattle today?"),
            ("entity", "Is it going to rain in Portland tomorrow?"),
            ("date", "Is it going to rain in Seattle on Saturday?"),
            ("intent", "Is it going to snow in Seattle tomorrow?"),
        ],
    ),
    (
        "How old do you have to be to rent a car in the US?",
        [
            "What's the minimum age to rent a car in the US?",
            "What age do you need to be to rent a car in the US?",
            "In the US, how old must you be to rent a car?",
        ],
        [
            ("entity", "How old do you have to be to rent a car in the UK?"),
            ("intent", "How old do you have to be to drive in the US?"),
            ("intent", "How old do you have to be to drink in the US?"),
            ("negation", "Can I rent a car in the US without a credit card?"),
        ],
    ),
    (
        "What is the best way to learn a new language?",
        [
            "How can I best learn a new language?",
            "What's the most effective way to learn a new language?",
            "How should I go about learning a new language?",
        ],
        [
            ("intent", "What is the easiest language to learn?"),
            ("number", "How can I learn a new language in 3 months?"),
            ("intent", "What is the best way to learn to code?"),
            ("intent", "What is the hardest language to learn?"),
        ],
    ),
    (
        "How do I make a pull request on GitHub?",
        [
            "How can I open a pull request on GitHub?",
            "What are the steps to create a pull request on GitHub?",
            "How do I submit a pull request on GitHub?",
        ],
        [
            ("intent", "How do I merge a pull request on GitHub?"),
            ("entity", "How do I make a merge request on GitLab?"),
            ("intent", "How do I close a pull request on GitHub?"),
            ("intent", "How do I review a pull request on GitHub?"),
        ],
    ),
    (
        "What happened on July 20, 1969?",
        [
            "What event took place on July 20, 1969?",
            "What was special about July 20, 1969?",
            "What historic event happened on July 20, 1969?",
        ],
        [
            ("date", "What happened on November 22, 1963?"),
            ("date", "What happened on July 4, 1776?"),
            ("number", "What happened on July 20, 1944?"),
            ("date", "What happened on December 7, 1941?"),
        ],
    ),
    (
        "How much does it cost to mail a letter in the United States?",
        [
            "What is the price of a stamp for a letter in the United States?",
            "What does postage for a letter cost in the United States?",
            "How much is postage for a letter in the United States?",
        ],
        [
            ("entity", "How much does it cost to mail a letter in Canada?"),
            ("intent", "How much does it cost to mail a package in the United States?"),
            ("intent", "How long does it take to mail a letter in the United States?"),
            ("intent", "How much does it cost to mail a letter from the United States to Europe?"),
        ],
    ),
]
