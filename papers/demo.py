"""
A small, plausible conference of our own for the demo, written in the same formats the real data
comes in (OpenReview notes and a virtual-site schedule), so that the demo goes through the real
importers. Everything is generated from a fixed seed: the same demo every time.
"""

from __future__ import annotations

import json
import random
import string
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

VENUE_ID = "Demo.cc/2026/Conference"
SLUG = "demo-2026"
NAME = "Demo Conference 2026"
CITY = "Lisbon"
TIMEZONE = "Europe/Lisbon"
START = date(2026, 5, 5)
DAYS = 4
END = START + timedelta(days=DAYS - 1)

METHODS = [
    "Sparse Attention",
    "Diffusion Models",
    "Graph Neural Networks",
    "Spiking Neural Networks",
    "Mixture of Experts",
    "State Space Models",
    "Contrastive Learning",
    "Normalizing Flows",
    "Vision Transformers",
    "Energy-Based Models",
    "Neural ODEs",
    "Low-Rank Adapters",
    "Hebbian Learning Rules",
    "Equivariant Networks",
    "Kernel Methods",
    "Bayesian Optimisation",
    "Reward Models",
    "Sparse Autoencoders",
    "Optimal Transport",
    "Meta-Learning",
]
GOALS = [
    "Continual Learning",
    "Mechanistic Interpretability",
    "Offline Reinforcement Learning",
    "Protein Design",
    "Long-Context Language Modelling",
    "Robust Image Classification",
    "Weather Forecasting",
    "Neuromorphic Hardware",
    "Causal Discovery",
    "Federated Training",
    "Program Synthesis",
    "Uncertainty Estimation",
    "Efficient Inference",
    "Molecule Generation",
    "Speech Recognition",
    "Tabular Data",
    "Model Merging",
    "Video Understanding",
]
PATTERNS = [
    "{method} for {goal}",
    "Scaling {method} to {goal}",
    "On the Limits of {method} in {goal}",
    "Rethinking {goal} with {method}",
    "{method} Are Secretly Good at {goal}",
    "Provable Guarantees for {method} in {goal}",
    "A Simple Baseline for {goal} via {method}",
    "When Do {method} Help {goal}?",
    "{method} in $\\mathcal{{O}}(n)$ Time for {goal}",
]
FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Kurt",
    "Emmy",
    "John",
    "Sofia",
    "Wei",
    "Amara",
    "Lars",
    "Priya",
    "Mateo",
    "Yuki",
    "Fatima",
    "Jonas",
    "Chen",
    "Olga",
    "Tomás",
    "Nadia",
    "Kwame",
    "Ines",
    "Ravi",
    "Hana",
    "Luca",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Gödel",
    "Noether",
    "Neumann",
    "Kovalevskaya",
    "Zhang",
    "Okafor",
    "Larsen",
    "Raman",
    "García",
    "Tanaka",
    "Haddad",
    "Berg",
    "Li",
    "Petrova",
    "Silva",
    "Rahman",
    "Mensah",
    "Costa",
    "Iyer",
    "Kim",
    "Rossi",
]
SENTENCES = [
    "We revisit {goal_l} through the lens of {method_l}.",
    "Existing approaches scale poorly and are hard to tune.",
    "We propose a simple modification that is easy to implement and adds negligible cost.",
    "Our analysis shows when and why {method_l} help, and when they do not.",
    "Experiments on six benchmarks show consistent gains over strong baselines.",
    "We release code and trained models.",
    "Surprisingly, the learned representations resemble those found in the brain.",
    "The method is robust to the choice of hyper-parameters.",
]


def _forum_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(10))


def generate(papers: int = 300, seed: int = 2026) -> tuple[list[dict], dict]:
    """The demo's OpenReview notes and its virtual-site schedule."""
    rng = random.Random(seed)
    notes: list[dict] = []
    used: set[str] = set()
    for number in range(1, papers + 1):
        method, goal = rng.choice(METHODS), rng.choice(GOALS)
        title = rng.choice(PATTERNS).format(method=method, goal=goal)
        forum_id = _forum_id(rng)
        while forum_id in used:
            forum_id = _forum_id(rng)
        used.add(forum_id)
        tier = rng.choices(["oral", "spotlight", "poster"], weights=[4, 16, 80])[0]
        authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(2, 7))]
        abstract = " ".join(s.format(goal_l=goal.lower(), method_l=method.lower()) for s in rng.sample(SENTENCES, 5))
        notes.append(
            {
                "id": forum_id,
                "forum": forum_id,
                "number": number,
                "content": {
                    "title": {"value": title},
                    "authors": {"value": authors},
                    "abstract": {"value": abstract},
                    "keywords": {"value": [method.lower(), goal.lower()]},
                    "primary_area": {"value": goal.lower()},
                    "venue": {"value": f"Demo 2026 {tier}"},
                    "venueid": {"value": VENUE_ID},
                    "pdf": {"value": f"/pdf?id={forum_id}"},
                },
            }
        )
    return notes, _schedule(notes, rng)


def _schedule(notes: list[dict], rng: random.Random) -> dict:
    zone = ZoneInfo(TIMEZONE)

    def at(day: int, hour: int, minute: int = 0) -> str:
        moment = datetime.combine(START + timedelta(days=day), time(hour), zone) + timedelta(minutes=minute)
        return moment.isoformat()

    poster_slots = [(day, part) for day in range(DAYS) for part in ("morning", "afternoon")]
    results: list[dict] = []
    event_id = 1000
    for index, note in enumerate(notes):
        forum_id = note["id"]
        day, part = poster_slots[index % len(poster_slots)]
        number = poster_slots.index((day, part)) + 1
        start_hour = 10 if part == "morning" else 16
        event_id += 1
        results.append(
            {
                "id": event_id,
                "name": note["content"]["title"]["value"],
                "eventtype": "Poster",
                "session": f"Poster Session {number}",
                "starttime": at(day, start_hour, 30),
                "endtime": at(day, start_hour + 2, 30),
                "room_name": "Hall 2",
                "poster_position": f"#{100 * number + index // len(poster_slots) + 1}",
                "paper_url": f"https://openreview.net/forum?id={forum_id}",
            }
        )
        if note["content"]["venue"]["value"].endswith("oral"):
            talk = sum(1 for r in results if r["eventtype"] == "Oral" and r["session"].startswith(f"Oral {day + 1}"))
            track = "A" if talk % 2 == 0 else "B"
            slot = talk // 2
            event_id += 1
            results.append(
                {
                    "id": event_id,
                    "name": note["content"]["title"]["value"],
                    "eventtype": "Oral",
                    "session": f"Oral {day + 1}{track}",
                    "starttime": at(day, 9, 15 * slot),
                    "endtime": at(day, 9, 15 * slot + 15),
                    "room_name": "Auditorium" if track == "A" else "Room 1",
                    "paper_url": f"https://openreview.net/forum?id={forum_id}",
                }
            )
    events = [
        ("Welcome social", "Social", 0, 19, 22, "Riverside terrace"),
        ("Mentoring: finding a research topic", "Mentoring", 1, 13, 14, "Room 3"),
        ("Invited talk: learning rules in the brain", "Invited Talk", 2, 14, 15, "Auditorium"),
        ("Workshop on efficient and neuromorphic AI", "Workshop", 3, 9, 17, "Room 5"),
    ]
    for title, kind, day, start, end, room in events:
        event_id += 1
        results.append(
            {
                "id": event_id,
                "name": title,
                "eventtype": kind,
                "session": title,
                "starttime": at(day, start),
                "endtime": at(day, end),
                "room_name": room,
            }
        )
    rng.shuffle(results)
    return {"count": len(results), "results": results}


def notes_bytes(notes: list[dict]) -> bytes:
    return json.dumps(notes).encode()


def schedule_bytes(schedule: dict) -> bytes:
    return json.dumps(schedule).encode()
