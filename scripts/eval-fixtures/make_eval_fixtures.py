#!/usr/bin/python3
"""Generates vdep's benchmark-scoring fixtures by running the upstream scoring code (upstream.py).

Writes, under vdep-train/src/test/resources/eval/:
- answer_processor.json: (input, expected) pairs of LLaVA's EvalAIAnswerProcessor over a corpus that hits
  every branch (hand-made cases plus seeded random strings), and m4c soft-accuracy cases;
- suite/: a small synthetic set per benchmark in the layout LLaVA's docs/Evaluation.md uses (root = LLaVA's
  ./playground/data/eval), with tiny images;
- expected/<benchmark>/answers.jsonl: LLaVA-format answer lines (predictions chosen to hit the extraction
  branches) and expected/<benchmark>/reference.json: what the upstream scripts compute from them.

Run: /usr/bin/python3 scripts/eval-fixtures/make_eval_fixtures.py   (numpy/PIL only; deterministic)
"""
import base64
import io
import json
import os
import random
import shutil
import sys

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import upstream as up  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.normpath(os.path.join(ROOT, "vdep-train", "src", "test", "resources", "eval"))
SUITE = os.path.join(OUT, "suite")
EXPECTED = os.path.join(OUT, "expected")
MODEL_ID = "fixture-model"
SHORT = "Answer the question using a single word or phrase."
LETTER = "Answer with the option's letter from the given choices directly."


def write_json(path, obj, indent=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def png(path, seed, size=(12, 10)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = random.Random(seed)
    img = Image.new("RGB", size)
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(size[0] * size[1])])
    img.save(path, format="PNG")


def png_base64(seed):
    buf = io.BytesIO()
    rng = random.Random(seed)
    img = Image.new("RGB", (12, 10))
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(120)])
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def answer_line(qid, prompt, text):
    return {"question_id": qid, "prompt": prompt, "text": text, "answer_id": f"a{qid}", "model_id": MODEL_ID,
            "metadata": {}}


# ------------------------------------------------------------------------------------------------
# 1. Answer processing corpus
# ------------------------------------------------------------------------------------------------
HAND = [
    "", " ", "yes", "Yes.", "YES!", "no", "No, it is not.", "it's", "its", "It's a dog's toy", "5%", "5", "$5",
    ".5", "0.5", "5.", "yes\u00a0no", "yes no", "yes\u2003no", "a\u2028b", "tab\tsep", "new\nline", "two",
    "Two dogs", "none", "None of them", "the cat", "an apple", "A", "a", "The", "dont", "don't", "Dont know",
    "cant", "Im", "Ive", "I'dve", "somebody'd", "ow's'at", "'ows'at", "yall'll", "oclock", "twas", "let's",
    "1,000", "1,000,000", "1, 2", "a,b", "hi?", "why?!", "what?", "t-shirt", "t - shirt", "t -shirt", "t- shirt",
    "(red)", "( red )", "[x]", "{y}", "a=b", "a = b", "c++", "back\\slash", "under_score", "a>b", "a<b",
    "me@home", "`tick`", "\"quoted\"", "semi;colon", "semi ; colon", "slash/word", "slash / word", "x!", "x !",
    "3.14", "3.14.15", "end.", "e.g.", "U.S.A.", "..", "...", ". . .", "." * 40 + "5", "a." * 20,
    "Mr. Smith's", "it's 5 o'clock", "5:30", "a&b", "#1", "100%", "50 %", "caf\u00e9", "\u00c9COLE", "na\u00efve",
    "\u2018quote\u2019", "\u201cdouble\u201d", "\u00bfqu\u00e9?", "\u00a1hola!", "stra\u00dfe", "\u0130stanbul",
    "\u03a3\u039f\u03a3", "\uff11\uff12", "\u0661\u0662.\u0663", "5.\u0665", "x\u00b7y", "emoji \U0001f600",
    "   padded   ", "multiple   spaces", "\x1c\x1dctrl", "zero one two three four five six seven eight nine ten",
    "eleven", "one's", "ones", "two's", "the one", "an one", "a none", "it's theirs", "whats up", "what's up",
    "Thats right", "theres", "there's", "he's", "hes", "She's", "shes", "I'm", "ITS", "it s", "'s", "s'", "'",
    "''", "'s's", "dog's'", "rock'n'roll", "o'neil", "don't-know", "yes/no", "yes / no", "yes, no", "1.5,2",
    "2,5", "2, 5", "2 ,5", "1,a", "a,1", "9,9,9", "1?2", "1!2", "1;2", "a\t-\tb", "-", "--", "- -", "+1", "-1",
    "1-2", "1 - 2", "1.0.", "v1.2.3", "1.", ".1.", "...1", "x.5y", "x .5 y", "a.b", "a. b",
]

WORDS = ["yes", "no", "the", "a", "an", "one", "two", "ten", "none", "dont", "cant", "its", "it's", "whats",
         "dog", "cat", "red", "5", "10", "3.5", "1,000", "o'clock", "let's", "somebody'd", "y'all", "ma'am"]
CHARS = list("abcXYZ019 .,?!;:/[]{}()=+\\_-><@`'\"%$#&*~^|") + ["\u00a0", "\u2019", "\u00e9", "\t", "\n", "\u2003",
                                                                  "\u0663", "\u00b7", "\u3000"]


def random_corpus(rng, n):
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.5:
            parts = []
            for _ in range(rng.randint(1, 6)):
                w = rng.choice(WORDS)
                if rng.random() < 0.3:
                    w = w.upper() if rng.random() < 0.5 else w.capitalize()
                if rng.random() < 0.3:
                    w = w + rng.choice(list(".,?!;:)'s") + ["'s", "%", "."])
                parts.append(w)
            sep = rng.choice([" ", "  ", " , ", ", ", "\u00a0", "\t", " - ", "/"])
            out.append(sep.join(parts))
        else:
            out.append("".join(rng.choice(CHARS) for _ in range(rng.randint(0, 14))))
    return out


def answer_processor_fixture():
    rng = random.Random(18)
    corpus = HAND + random_corpus(rng, 1800)
    proc = up.EvalAIAnswerProcessor()
    pairs = [{"in": s, "out": proc(s)} for s in corpus]
    # m4c soft accuracy: 10 human answers, a prediction
    ev = up.TextVQAAccuracyEvaluator()
    pool = ["yes", "Yes", "yes.", "no", "two", "2", "red", "Red ", "the red", "blue", "unanswerable", "it's", "its"]
    soft = []
    for i in range(300):
        gts = [rng.choice(pool[: rng.randint(1, len(pool))]) for _ in range(10)]
        pred = rng.choice(pool + ["green", ""])
        soft.append({"pred": pred, "gts": gts, "score": ev.eval_pred_list([{"pred_answer": pred, "gt_answers": gts}])})
    write_json(os.path.join(OUT, "answer_processor.json"), {"processor": pairs, "soft_accuracy": soft})
    return len(pairs), len(soft)


# ------------------------------------------------------------------------------------------------
# 2. Synthetic benchmarks in LLaVA's layout, predictions and the upstream scores
# ------------------------------------------------------------------------------------------------
SHORT_PREDS = ["yes", "No", "2", "two", "Red.", "it's", "its", "5%", "$5", ".5", "the cat", "yes\u00a0no",
               "unanswerable", "Unanswerable", "t-shirt", "1,000", "I don't know", ""]


def human_answers(rng, base):
    pool = [base, base.capitalize(), base + ".", "the " + base, "other", "unanswerable"]
    return [rng.choice(pool[:rng.randint(1, len(pool))]) for _ in range(10)]


def make_vqav2(rng):
    d = os.path.join(SUITE, "vqav2")
    png(os.path.join(d, "val2014", "COCO_val2014_000000000042.jpg"), 1)
    png(os.path.join(d, "val2014", "COCO_val2014_000000000073.jpg"), 2)
    questions, annotations, answers = [], [], []
    bases = ["yes", "no", "2", "red", "cat", "it's", "5", "t-shirt", "1000", "none"]
    for i, base in enumerate(bases):
        qid = 42000 + i
        img = "COCO_val2014_000000000042.jpg" if i % 2 == 0 else "COCO_val2014_000000000073.jpg"
        q = {"question_id": qid, "image": img, "text": f"Question {i} about the picture?\n{SHORT}", "category": "default"}
        questions.append(q)
        gts = human_answers(rng, base)
        annotations.append({"question_id": qid, "image_id": 42 if i % 2 == 0 else 73, "answer_type": "other",
                            "question_type": "what", "multiple_choice_answer": base,
                            "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": k + 1} for k, a in enumerate(gts)]})
        answers.append(answer_line(qid, q["text"], SHORT_PREDS[i] if i % 3 else base.capitalize() + "."))
    write_jsonl(os.path.join(d, "llava_vqav2_mscoco_val2014.jsonl"), questions)
    write_json(os.path.join(d, "v2_mscoco_val2014_annotations.json"), {"annotations": annotations})
    upload = up.convert_vqav2(answers, questions)
    gt = {a["question_id"]: [x["answer"] for x in a["answers"]] for a in annotations}
    acc = up.TextVQAAccuracyEvaluator().eval_pred_list(
        [{"pred_answer": u["answer"], "gt_answers": gt[u["question_id"]]} for u in upload])
    return "vqav2", answers, {"accuracy": acc * 100, "count": len(upload)}, {"upload": upload}


def make_vizwiz(rng):
    d = os.path.join(SUITE, "vizwiz")
    questions, annots, answers = [], [], []
    types = ["other", "yes/no", "number", "unanswerable"]
    for i in range(8):
        img = f"VizWiz_val_{i:08d}.jpg"
        png(os.path.join(d, "val", img), 10 + i)
        atype = types[i % 4]
        base = {"other": "soup", "yes/no": "yes", "number": "3", "unanswerable": "unanswerable"}[atype]
        text = (f"What is this {i}?\nWhen the provided information is insufficient, respond with 'Unanswerable'.\n"
                f"{SHORT}")
        questions.append({"question_id": i, "image": img, "text": text, "category": "default"})
        gts = human_answers(rng, base)
        annots.append({"image": img, "question": f"What is this {i}?", "answer_type": atype,
                       "answerable": 0 if atype == "unanswerable" else 1,
                       "answers": [{"answer": a, "answer_confidence": "yes"} for a in gts]})
        pred = ["Soup.", "Yes", "three", "Unanswerable", "the soup", "no", "3", "unanswerable."][i]
        answers.append(answer_line(i, text, pred))
    write_jsonl(os.path.join(d, "llava_val.jsonl"), questions)
    write_json(os.path.join(d, "val.json"), annots)
    upload = up.convert_vizwiz(answers, questions)
    by_image = {a["image"]: a for a in annots}
    ev = up.TextVQAAccuracyEvaluator()
    entries = [{"pred_answer": u["answer"], "gt_answers": [x["answer"] for x in by_image[u["image"]]["answers"]],
                "type": by_image[u["image"]]["answer_type"]} for u in upload]
    per_type = {}
    for t in sorted(set(e["type"] for e in entries)):
        per_type[t] = ev.eval_pred_list([e for e in entries if e["type"] == t]) * 100
    return "vizwiz", answers, {"accuracy": ev.eval_pred_list(entries) * 100, "count": len(entries),
                               "per_answer_type": per_type}, {"upload": upload}


def make_gqa(rng):
    d = os.path.join(SUITE, "gqa")
    png(os.path.join(d, "data", "images", "n161313.jpg"), 20)
    png(os.path.join(d, "data", "images", "n235859.jpg"), 21)
    questions, gqa_q, answers = [], {}, []
    golds = ["yes", "no", "left", "table", "white", "man", "no", "right"]
    preds = ["Yes", "no.", "Left.", "table..", "White", "a man", "No", "right"]
    for i, (gold, pred) in enumerate(zip(golds, preds)):
        qid = f"20{i:06d}"
        img = "n161313" if i < 4 else "n235859"
        text = f"Is the thing {i} there?\n{SHORT}"
        questions.append({"question_id": qid, "image": img + ".jpg", "text": text, "category": "default"})
        gqa_q[qid] = {"imageId": img, "question": f"Is the thing {i} there?", "answer": gold, "isBalanced": True,
                      "types": {"structural": "verify" if gold in ("yes", "no") else "query",
                                "semantic": "attr", "detailed": "x"}}
        answers.append(answer_line(qid, text, pred))
    write_jsonl(os.path.join(d, "llava_gqa_testdev_balanced.jsonl"), questions)
    write_json(os.path.join(d, "data", "testdev_balanced_questions.json"), gqa_q)
    r = up.gqa_accuracy(gqa_q, up.convert_gqa_for_eval(answers))
    return "gqa", answers, {"accuracy": r["accuracy"] * 100, "binary": r["binary"] * 100, "open": r["open"] * 100,
                            "count": r["count"]}, {}


def make_scienceqa(rng):
    d = os.path.join(SUITE, "scienceqa")
    problems, llava, answers, ids = {}, [], [], []
    preds = ["A", "B", "C. ", "D. foo", "The answer is B.", "The answer is A. The answer is B.", "E", "b", "FAILED",
             "A.", "The answer is C"]
    for i, pred in enumerate(preds):
        pid = str(100 + i)
        ids.append(pid)
        nchoices = 2 + i % 3
        choices = [f"choice {k}" for k in range(nchoices)]
        ans = i % nchoices
        has_image = i % 4 != 3
        problems[pid] = {"question": f"Which is it {i}?", "choices": choices, "answer": ans, "hint": "",
                         "image": "image.png" if has_image else None, "task": "closed choice", "split": "test"}
        opts = " ".join(f"({chr(65 + k)}) {c}" for k, c in enumerate(choices))
        value = f"Context: none\nQuestion: Which is it {i}?\nOptions: {opts}"
        rec = {"id": pid, "conversations": [{"from": "human", "value": ("<image>\n" if has_image else "") + value},
                                            {"from": "gpt", "value": chr(65 + ans)}]}
        if has_image:
            rec["image"] = f"{pid}/image.png"
            png(os.path.join(d, "images", "test", pid, "image.png"), 30 + i)
        llava.append(rec)
        prompt = ("<image>\n" if has_image else "") + value + "\n" + LETTER
        answers.append(answer_line(pid, prompt, pred))
    problems["999"] = {"question": "train only", "choices": ["x", "y"], "answer": 0, "image": None, "split": "train"}
    write_json(os.path.join(d, "problems.json"), problems)
    write_json(os.path.join(d, "pid_splits.json"), {"test": ids, "train": ["999"]})
    write_json(os.path.join(d, "llava_test_CQM-A.json"), llava)
    r = up.eval_science_qa({"test": ids}, problems, answers)
    return "scienceqa", answers, {"accuracy": r["accuracy"], "img_accuracy": r["img_accuracy"], "count": r["total"],
                                  "img_count": r["img_total"], "correct": r["correct"],
                                  "img_correct": r["img_correct"]}, {}


def make_textvqa(rng):
    d = os.path.join(SUITE, "textvqa")
    data, questions, answers = [], [], []
    preds = ["STOP", "stop.", "Coca-Cola", "coca cola", "5", "five", "it's", "the end", ""]
    for i, pred in enumerate(preds):
        image_id = f"img{i // 2:04d}"
        if i % 2 == 0:
            png(os.path.join(d, "train_images", image_id + ".jpg"), 40 + i)
        question = f"What Is Written {i}?"
        base = ["stop", "coca cola", "5", "it's", "end"][i // 2]
        data.append({"image_id": image_id, "question": question, "question_id": 500 + i,
                     "answers": human_answers(rng, base)})
        if i % 3 == 2:
            text = f"{question}\n{SHORT}"
        else:
            text = f"{question}\nReference OCR token: STOP, sign, {i}\n{SHORT}"
        questions.append({"question_id": image_id, "image": image_id + ".jpg", "text": text, "category": "default"})
        answers.append(answer_line(image_id, text, pred))
    write_jsonl(os.path.join(d, "llava_textvqa_val_v051_ocr.jsonl"), questions)
    write_json(os.path.join(d, "TextVQA_0.5.1_val.json"), {"dataset_name": "textvqa", "dataset_type": "val",
                                                           "data": data})
    r = up.textvqa_eval_single({"data": data}, answers)
    return "textvqa", answers, {"accuracy": r["accuracy"] * 100, "count": r["samples"]}, {}


def make_pope(rng):
    d = os.path.join(SUITE, "pope")
    png(os.path.join(d, "val2014", "COCO_val2014_000000310196.jpg"), 50)
    png(os.path.join(d, "val2014", "COCO_val2014_000000210789.jpg"), 51)
    preds = ["Yes", "No", "yes.", "No, there is not.", "There is not a dog.", "Nope",
             "Yes. No.", "yes, no", "I think no. Yes.", "", "not sure", "NO",
             "Yes", "Nope", "yes", "no", "There is.", "Yes, it is not."]
    questions, answers, labels = [], [], {}
    qid = 0
    for cat in ["adversarial", "popular", "random"]:
        lines = []
        for k in range(6):
            img = "COCO_val2014_000000310196.jpg" if k < 3 else "COCO_val2014_000000210789.jpg"
            label = "yes" if k % 2 == 0 else "no"
            text = f"Is there a thing {k} in the image?"
            lines.append({"question_id": k + 1, "image": img, "text": text, "label": label})
            questions.append({"question_id": qid, "image": img, "text": f"{text}\n{SHORT}", "category": cat})
            answers.append(answer_line(qid, f"{text}\n{SHORT}", preds[qid % len(preds)]))
            qid += 1
        labels[f"coco_pope_{cat}.json"] = lines
        write_jsonl(os.path.join(d, "coco", f"coco_pope_{cat}.json"), lines)
    write_jsonl(os.path.join(d, "llava_pope_test.jsonl"), questions)
    r = up.eval_pope_main(questions, answers, labels)
    metrics = {}
    for cat, m in r.items():
        metrics[cat] = {"accuracy": m["accuracy"] * 100, "precision": m["precision"] * 100, "recall": m["recall"] * 100,
                        "f1": m["f1"] * 100, "yes_ratio": m["yes_ratio"] * 100, "TP": m["TP"], "FP": m["FP"],
                        "TN": m["TN"], "FN": m["FN"]}
    cats = sorted(r)
    metrics["f1"] = sum(r[c]["f1"] for c in cats) / len(cats) * 100
    metrics["accuracy"] = sum(r[c]["accuracy"] for c in cats) / len(cats) * 100
    return "pope", answers, metrics, {}


def make_mme(rng):
    d = os.path.join(SUITE, "MME")
    base = os.path.join(d, "MME_Benchmark_release_version")
    nested = {"artwork", "celebrity", "landmark", "posters", "scene"}
    questions, answers, GT = [], [], {}
    preds = ["Yes", "No", "yes, it is", "no.", "Nope", "eyes", "I think yes", "not", "", "NO", "y", "Yes."]
    n = 0
    for cat in up.MME_EVAL_TYPE_DICT["Perception"] + up.MME_EVAL_TYPE_DICT["Cognition"]:
        nimg = 2 if cat in ("existence", "OCR") else 1
        for j in range(nimg):
            stem = f"{cat[:3]}{j:03d}"
            if cat in nested:
                png(os.path.join(base, cat, "images", stem + ".jpg"), 60 + n)
                qa = os.path.join(base, cat, "questions_answers_YN", stem + ".txt")
            else:
                png(os.path.join(base, cat, stem + ".png"), 60 + n)
                qa = os.path.join(base, cat, stem + ".txt")
            lines = []
            for k, gt in enumerate(["Yes", "No"]):
                q = f"Is this a {cat} picture number {j}{k}?"
                double = (n + k) % 5 == 0
                qfull = q + ("  Please answer yes or no." if double else " Please answer yes or no.")
                lines.append(f"{qfull}\t{gt}")
                GT[(cat, stem + ".txt", qfull)] = gt
                keep = (n + k) % 4 == 1  # some LLaVA question texts keep the "Please answer" phrase
                text = qfull if keep else f"{q}\n{SHORT}"
                # LLaVA's llava_mme.jsonl: the id is <category>/<file>, the image path has images/ where the release does
                qid = f"{cat}/{stem}.{'jpg' if cat in nested else 'png'}"
                image_rel = f"{cat}/images/{stem}.jpg" if cat in nested else qid
                questions.append({"question_id": qid, "image": image_rel, "text": text, "category": cat})
                answers.append(answer_line(qid, text, preds[(n * 2 + k) % len(preds)]))
            os.makedirs(os.path.dirname(qa), exist_ok=True)
            with open(qa, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            n += 1
    write_jsonl(os.path.join(d, "llava_mme.jsonl"), questions)
    files = up.mme_convert(answers, GT)
    r = up.MmeCalculateMetrics().process_result(files)
    return "mme", answers, {"perception": r["Perception"]["total"], "cognition": r["Cognition"]["total"],
                            "tasks": {t: v for et in r.values() for t, v in et["tasks"].items()}}, {}


def make_mmbench(rng):
    d = os.path.join(SUITE, "mmbench")
    cols = ["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "image", "source",
            "l2-category", "comment", "split"]
    mains = [
        ("What colour is the sky?", "Look up.", ["blue", "green", "red", "black"], 0, "attribute_recognition"),
        ("How many legs?", None, ["two", "four", "six"], 1, "counting"),
        ("Is it day?", "Sun is up", ["yes", "no"], 0, "attribute_recognition"),
        ("Which animal?", None, ["cat", "dog", "cow", "hen"], 3, "object_localization"),
    ]
    preds = ["A", "The answer is D", "C.", "blue",  # all four rounds right: a hit
             "(B) four", "four legs", "C",  # a hit (option text matched in round 2)
             "A. yes", "no",  # round 2 reads 'no' as option A: a miss
             "A big hen is here", "Cannot determine the answer", "A B", "hen"]  # 'Z', then two letters: a miss
    rows, answers = [], []
    p = 0
    for g, (q, hint, opts, ans, cat) in enumerate(mains):
        for k in range(len(opts)):
            rot = opts[k:] + opts[:k]
            row = {"index": g + k * 1000000, "question": q, "hint": hint if hint else "nan"}
            for li, letter in enumerate("ABCD"):
                row[letter] = rot[li] if li < len(rot) else "nan"
            row["answer"] = "ABCD"[rot.index(opts[ans])]
            row.update({"category": cat, "image": png_base64(70 + g), "source": "synthetic", "l2-category": "x",
                        "comment": "nan", "split": "dev"})
            rows.append(row)
            question = (row["hint"] + "\n" + q) if hint else q
            for li, letter in enumerate("ABCD"):
                if li < len(rot):
                    question += "\n" + letter + ". " + rot[li]
            answers.append(answer_line(row["index"], question, preds[p % len(preds)]))
            p += 1
    with open(os.path.join(d, "mmbench_dev_20230712.tsv") if os.makedirs(d, exist_ok=True) is None else "", "w",
              encoding="utf-8") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in cols) + "\n")
    # pd.read_table turns the 'nan' cells into NaN: the reference sees None there
    parsed = []
    for r, a in zip(rows, answers):
        item = {k: (None if v == "nan" else v) for k, v in r.items()}
        item["prediction"] = a["text"]
        parsed.append(item)
    res = up.mmbench_circular(parsed)
    return "mmbench", answers, {"circular_accuracy": res["circular_accuracy"] * 100, "groups": res["groups"],
                                "per_category": {c: v * 100 for c, v in res["per_category"].items()}}, {}


def make_seed(rng):
    d = os.path.join(SUITE, "seed_bench")
    qtypes = {"Scene Understanding": 1, "Instance Identity": 2, "Action Recognition": 10}
    questions, llava, answers = [], [], []
    preds = ["A", "B", "C", "D", "A.", "a", " B", "The answer is C", "D"]
    for i, pred in enumerate(preds):
        video = i == 8
        qid = 300 + i if i % 2 == 0 else str(300 + i)
        data_id = f"img{i}.jpg"
        folder = "SEED-Bench-video-image" if video else "SEED-Bench-image"
        png(os.path.join(d, folder, data_id), 80 + i)
        ans = "ABCD"[i % 4]
        qt = 10 if video else (1 if i < 4 else 2)
        questions.append({"question_id": qid, "data_type": "video" if video else "image", "question_type_id": qt,
                          "answer": ans, "question": f"What is shown {i}?", "choice_a": "x", "choice_b": "y",
                          "choice_c": "z", "choice_d": "w", "data_id": data_id})
        text = f"What is shown {i}?\nA. x\nB. y\nC. z\nD. w\n{LETTER}"
        int_qid = int(qid)
        llava.append({"image": f"{folder}/{data_id}", "text": text, "category": "default", "question_id": int_qid})
        answers.append(answer_line(int_qid, text, pred))
    data = {"questions": questions, "question_type": qtypes}
    write_json(os.path.join(d, "SEED-Bench.json"), data)
    write_jsonl(os.path.join(d, "llava-seed-bench.jsonl"), llava)
    allr = up.seed_eval_single(data, answers)
    img = up.seed_eval_single(data, answers, "image")
    vid = up.seed_eval_single(data, answers, "video")
    results = {row["question_id"]: row for row in answers}
    upload = up.seed_upload(data, results)
    names = {v: k for k, v in qtypes.items()}
    return "seed", answers, {"accuracy": allr["accuracy"], "image_accuracy": img["accuracy"],
                             "video_accuracy": vid["accuracy"], "count": allr["count"], "image_count": img["count"],
                             "per_type": {names[t]: v for t, v in allr["per_type"].items()}}, {"upload": upload}


def make_realworldqa(rng):
    d = os.path.join(SUITE, "realworldqa")
    rows, answers = [], []
    cases = [
        ("Which way is the arrow pointing?\nA. left\nB. right\nC. up\n"
         "Please answer directly with only the letter of the correct option and nothing else.", "B",
         ["B", "b.", "right", "The arrow points right", "(B)", "up and right"]),
        ("How many cars are there?\nPlease answer directly with a single number.", "3",
         ["3", "three", "3 cars", "Three", "3."]),
        ("Is the light red?\nA. Yes\nB. No\n"
         "Please answer directly with only the letter of the correct option and nothing else.", "A",
         ["A", "Yes", "No", "yes"]),
    ]
    i = 0
    for question, ans, preds in cases:
        for pred in preds:
            img = f"images/{i}.png"
            png(os.path.join(d, img), 90 + i)
            rows.append({"question_id": i, "image": img, "question": question, "answer": ans})
            answers.append(answer_line(i, question, pred))
            i += 1
    write_jsonl(os.path.join(d, "realworldqa.jsonl"), rows)
    scores = [up.rwqa_score(r, a["text"])[1] for r, a in zip(rows, answers)]
    return "realworldqa", answers, {"accuracy": sum(scores) / len(scores) * 100, "count": len(scores)}, {}


def make_gpt_judged():
    out = []
    d = os.path.join(SUITE, "llava-bench-in-the-wild")
    qs = []
    for i in range(2):
        png(os.path.join(d, "images", f"{i:03d}.jpg"), 100 + i)
        qs.append({"question_id": i, "image": f"{i:03d}.jpg", "text": f"Describe picture {i} in detail.",
                   "category": "detail"})
    write_jsonl(os.path.join(d, "questions.jsonl"), qs)
    d = os.path.join(SUITE, "mm-vet")
    qs = []
    for i in range(2):
        png(os.path.join(d, "images", f"v1_{i}.png"), 110 + i)
        qs.append({"question_id": f"v1_{i}", "image": f"v1_{i}.png", "text": f"What is in picture {i}?"})
    write_jsonl(os.path.join(d, "llava-mm-vet.jsonl"), qs)
    return out


def main():
    for p in (SUITE, EXPECTED):
        if os.path.exists(p):
            shutil.rmtree(p)
    n, s = answer_processor_fixture()
    rng = random.Random(5)
    summary = {}
    for make in (make_vqav2, make_gqa, make_vizwiz, make_scienceqa, make_textvqa, make_pope, make_mme, make_mmbench,
                 make_seed, make_realworldqa):
        name, answers, metrics, extra = make(rng)
        write_jsonl(os.path.join(EXPECTED, name, "answers.jsonl"), answers)
        write_json(os.path.join(EXPECTED, name, "reference.json"), {"metrics": metrics, **extra}, indent=1)
        summary[name] = metrics
    make_gpt_judged()
    print(f"answer processor: {n} pairs, soft accuracy: {s} cases")
    for k, v in summary.items():
        print(k, json.dumps(v)[:200])


if __name__ == "__main__":
    main()
