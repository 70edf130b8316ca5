"""Faithful copies of the upstream benchmark scoring code, used only to generate vdep's fixtures.

Each block names its source and licence. Changes are limited to I/O: where the upstream reads files
or prints, the function here takes the parsed data and returns the numbers it prints. The scoring
logic (string handling, branches, quirks) is copied unchanged; every change is marked "vdep:".

Sources
- LLaVA (Apache-2.0), https://github.com/haotian-liu/LLaVA at main:
  llava/eval/m4c_evaluator.py (itself from facebookresearch/mmf, BSD), llava/eval/eval_pope.py,
  llava/eval/eval_science_qa.py, llava/eval/eval_textvqa.py, scripts/convert_gqa_for_eval.py,
  scripts/convert_vqav2_for_submission.py, scripts/convert_vizwiz_for_submission.py,
  scripts/convert_seed_for_submission.py, scripts/convert_mmvet_for_eval.py,
  playground/data/eval/MME/convert_answer_to_mme.py (from LLaVA's eval.zip).
- MME eval_tool/calculation.py (BradyFU/Awesome-Multimodal-Large-Language-Models, Evaluation branch).
- GQA's official eval.py (Stanford GQA, https://cs.stanford.edu/people/dorarad/gqa/evaluate.html): the
  accuracy part.
- VLMEvalKit (Apache-2.0), vlmeval/utils/matching_util.py can_infer*, vlmeval/dataset/utils/multiple_choice.py
  circular evaluation (prefetch_sub_data / eval_sub_data) with the exact_matching policy (no judge model).
- lmms-eval (MIT), lmms_eval/tasks/realworldqa/{realworldqa.yaml, utils.py} and
  lmms_eval/api/metrics.py exact_match_hf_evaluate.
"""
import copy as cp
import re
import string


# ---------------------------------------------------------------------------------------------
# LLaVA llava/eval/m4c_evaluator.py (Apache-2.0; copied there from mmf, BSD). Unchanged except tqdm.
# ---------------------------------------------------------------------------------------------
class EvalAIAnswerProcessor:
    CONTRACTIONS = {
        "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
        "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
        "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
        "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
        "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm",
        "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
        "let's": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've",
        "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
        "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
        "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
        "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
        "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
        "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
        "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
        "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
        "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
        "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's",
        "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're",
        "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
        "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't",
        "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll",
        "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
        "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've",
        "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll",
        "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
        "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll",
        "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
        "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're",
        "youve": "you've",
    }
    NUMBER_MAP = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                  "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
    ARTICLES = ["a", "an", "the"]
    PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
    COMMA_STRIP = re.compile(r"(?<=\d)(\,)+(?=\d)")
    PUNCTUATIONS = [";", r"/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`",
                    ",", "?", "!"]

    def __init__(self, *args, **kwargs):
        pass

    def word_tokenize(self, word):
        word = word.lower()
        word = word.replace(",", "").replace("?", "").replace("'s", " 's")
        return word.strip()

    def process_punctuation(self, in_text):
        out_text = in_text
        for p in self.PUNCTUATIONS:
            if (p + " " in in_text or " " + p in in_text) or (
                re.search(self.COMMA_STRIP, in_text) is not None
            ):
                out_text = out_text.replace(p, "")
            else:
                out_text = out_text.replace(p, " ")
        out_text = self.PERIOD_STRIP.sub("", out_text, re.UNICODE)
        return out_text

    def process_digit_article(self, in_text):
        out_text = []
        temp_text = in_text.lower().split()
        for word in temp_text:
            word = self.NUMBER_MAP.setdefault(word, word)
            if word not in self.ARTICLES:
                out_text.append(word)
            else:
                pass
        for word_id, word in enumerate(out_text):
            if word in self.CONTRACTIONS:
                out_text[word_id] = self.CONTRACTIONS[word]
        out_text = " ".join(out_text)
        return out_text

    def __call__(self, item):
        item = self.word_tokenize(item)
        item = item.replace("\n", " ").replace("\t", " ").strip()
        item = self.process_punctuation(item)
        item = self.process_digit_article(item)
        return item


class TextVQAAccuracyEvaluator:
    def __init__(self):
        self.answer_processor = EvalAIAnswerProcessor()

    def _compute_answer_scores(self, raw_answers):
        answers = [self.answer_processor(a) for a in raw_answers]
        assert len(answers) == 10
        gt_answers = list(enumerate(answers))
        unique_answers = set(answers)
        unique_answer_scores = {}
        for unique_answer in unique_answers:
            accs = []
            for gt_answer in gt_answers:
                other_answers = [item for item in gt_answers if item != gt_answer]
                matching_answers = [item for item in other_answers if item[1] == unique_answer]
                acc = min(1, float(len(matching_answers)) / 3)
                accs.append(acc)
            unique_answer_scores[unique_answer] = sum(accs) / len(accs)
        return unique_answer_scores

    def eval_pred_list(self, pred_list):
        pred_scores = []
        for entry in pred_list:  # vdep: tqdm removed
            pred_answer = self.answer_processor(entry["pred_answer"])
            unique_answer_scores = self._compute_answer_scores(entry["gt_answers"])
            score = unique_answer_scores.get(pred_answer, 0.0)
            pred_scores.append(score)
        accuracy = sum(pred_scores) / len(pred_scores)
        return accuracy


# ---------------------------------------------------------------------------------------------
# LLaVA llava/eval/eval_textvqa.py (Apache-2.0). vdep: eval_single takes parsed data, returns the accuracy.
# ---------------------------------------------------------------------------------------------
def textvqa_prompt_processor(prompt):
    if prompt.startswith('OCR tokens: '):
        pattern = r"Question: (.*?) Short answer:"
        match = re.search(pattern, prompt, re.DOTALL)
        question = match.group(1)
    elif 'Reference OCR token: ' in prompt and len(prompt.split('\n')) == 3:
        if prompt.startswith('Reference OCR token:'):
            question = prompt.split('\n')[1]
        else:
            question = prompt.split('\n')[0]
    elif len(prompt.split('\n')) == 2:
        question = prompt.split('\n')[0]
    else:
        assert False
    return question.lower()


def textvqa_eval_single(annotation_json, results):
    annotations = annotation_json['data']
    annotations = {(annotation['image_id'], annotation['question'].lower()): annotation for annotation in annotations}
    pred_list = []
    for result in results:
        annotation = annotations[(result['question_id'], textvqa_prompt_processor(result['prompt']))]
        pred_list.append({"pred_answer": result['text'], "gt_answers": annotation['answers']})
    evaluator = TextVQAAccuracyEvaluator()
    return {"samples": len(pred_list), "accuracy": evaluator.eval_pred_list(pred_list)}


# ---------------------------------------------------------------------------------------------
# LLaVA llava/eval/eval_pope.py (Apache-2.0). vdep: returns the printed numbers; label_list from parsed lines.
# ---------------------------------------------------------------------------------------------
def eval_pope(answers, label_lines):
    label_list = [q['label'] for q in label_lines]
    for answer in answers:
        text = answer['text']
        # Only keep the first sentence
        if text.find('.') != -1:
            text = text.split('.')[0]
        text = text.replace(',', '')
        words = text.split(' ')
        if 'No' in words or 'not' in words or 'no' in words:
            answer['text'] = 'no'
        else:
            answer['text'] = 'yes'
    for i in range(len(label_list)):
        if label_list[i] == 'no':
            label_list[i] = 0
        else:
            label_list[i] = 1
    pred_list = []
    for answer in answers:
        if answer['text'] == 'no':
            pred_list.append(0)
        else:
            pred_list.append(1)
    pos = 1
    neg = 0
    yes_ratio = pred_list.count(1) / len(pred_list)
    TP, TN, FP, FN = 0, 0, 0, 0
    for pred, label in zip(pred_list, label_list):
        if pred == pos and label == pos:
            TP += 1
        elif pred == pos and label == neg:
            FP += 1
        elif pred == neg and label == neg:
            TN += 1
        elif pred == neg and label == pos:
            FN += 1
    precision = float(TP) / float(TP + FP)
    recall = float(TP) / float(TP + FN)
    f1 = 2 * precision * recall / (precision + recall)
    acc = (TP + TN) / (TP + TN + FP + FN)
    return {"TP": TP, "FP": FP, "TN": TN, "FN": FN, "accuracy": acc, "precision": precision, "recall": recall,
            "f1": f1, "yes_ratio": yes_ratio}


def eval_pope_main(questions, answers, label_files):
    """vdep: the __main__ block; label_files maps 'coco_pope_<category>.json' to its parsed lines."""
    questions = {question['question_id']: question for question in questions}
    out = {}
    for file in sorted(label_files):
        assert file.startswith('coco_pope_')
        assert file.endswith('.json')
        category = file[10:-5]
        cur_answers = [dict(x) for x in answers if questions[x['question_id']]['category'] == category]
        out[category] = eval_pope(cur_answers, label_files[file])
    return out


# ---------------------------------------------------------------------------------------------
# LLaVA llava/eval/eval_science_qa.py (Apache-2.0). vdep: __main__ as a function returning the numbers.
# ---------------------------------------------------------------------------------------------
def sqa_get_pred_idx(prediction, choices, options):
    if prediction in options[:len(choices)]:
        return options.index(prediction)
    else:
        return -1


def eval_science_qa(pid_splits, problems, predictions_list, split='test', options=("A", "B", "C", "D", "E")):
    options = list(options)
    split_indices = pid_splits[split]
    predictions = {pred['question_id']: pred for pred in predictions_list}
    split_problems = {idx: problems[idx] for idx in split_indices}
    results = {'correct': [], 'incorrect': []}
    for prob_id, prob in split_problems.items():
        if prob_id not in predictions:
            pred = {'text': 'FAILED', 'prompt': 'Unknown'}
            pred_text = 'FAILED'
        else:
            pred = predictions[prob_id]
            pred_text = pred['text']
        if pred_text in options:
            answer = pred_text
        elif len(pred_text) >= 3 and pred_text[0] in options and pred_text[1:3] == ". ":
            answer = pred_text[0]
        else:
            pattern = re.compile(r'The answer is ([A-Z]).')
            res = pattern.findall(pred_text)
            if len(res) == 1:
                answer = res[0]  # 'A', 'B', ...
            else:
                answer = "FAILED"
        pred_idx = sqa_get_pred_idx(answer, prob['choices'], options)
        analysis = {'question_id': prob_id, 'parsed_ans': answer, 'is_multimodal': '<image>' in pred['prompt']}
        if pred_idx == prob['answer']:
            results['correct'].append(analysis)
        else:
            results['incorrect'].append(analysis)
    correct = len(results['correct'])
    total = len(results['correct']) + len(results['incorrect'])
    multimodal_correct = len([x for x in results['correct'] if x['is_multimodal']])
    multimodal_incorrect = len([x for x in results['incorrect'] if x['is_multimodal']])
    multimodal_total = multimodal_correct + multimodal_incorrect
    return {"total": total, "correct": correct, "accuracy": correct / total * 100,
            "img_total": multimodal_total, "img_correct": multimodal_correct,
            "img_accuracy": multimodal_correct / multimodal_total * 100,
            "parsed": {x['question_id']: x['parsed_ans'] for x in results['correct'] + results['incorrect']}}


# ---------------------------------------------------------------------------------------------
# LLaVA scripts/convert_gqa_for_eval.py + GQA eval.py accuracy (the only GQA number LLaVA reports).
# ---------------------------------------------------------------------------------------------
def convert_gqa_for_eval(answer_lines):
    all_answers = []
    for res in answer_lines:
        question_id = res['question_id']
        text = res['text'].rstrip('.').lower()
        all_answers.append({"questionId": question_id, "prediction": text})
    return all_answers


def gqa_accuracy(questions, predictions):
    """GQA eval.py: accuracy over the balanced questions (predictions keyed by questionId)."""
    predictions = {p["questionId"]: p["prediction"] for p in predictions}
    scores = {"accuracy": [], "binary": [], "open": []}
    for qid, question in questions.items():
        if question["isBalanced"]:
            gold = question["answer"]
            predicted = predictions[qid]
            correct = (predicted == gold)
            score = float(correct)
            scores["accuracy"].append(score)
            answer_type = "open" if question["types"]["structural"] == "query" else "binary"
            scores[answer_type].append(score)
    return {k: (sum(v) / len(v) if v else 0.0) for k, v in scores.items()} | {"count": len(scores["accuracy"])}


# ---------------------------------------------------------------------------------------------
# LLaVA scripts/convert_vqav2_for_submission.py and convert_vizwiz_for_submission.py (Apache-2.0).
# vdep: take parsed lines; return the upload list. VizWiz asserts every question has a result.
# ---------------------------------------------------------------------------------------------
def convert_vqav2(result_lines, test_split):
    results = {x['question_id']: x['text'] for x in result_lines}
    answer_processor = EvalAIAnswerProcessor()
    all_answers = []
    for x in test_split:
        if x['question_id'] not in results:
            all_answers.append({'question_id': x['question_id'], 'answer': ''})
        else:
            all_answers.append({'question_id': x['question_id'], 'answer': answer_processor(results[x['question_id']])})
    return all_answers


def convert_vizwiz(result_lines, test_split):
    results = {x['question_id']: x['text'] for x in result_lines}
    answer_processor = EvalAIAnswerProcessor()
    all_answers = []
    for x in test_split:
        assert x['question_id'] in results
        all_answers.append({'image': x['image'], 'answer': answer_processor(results[x['question_id']])})
    return all_answers


# ---------------------------------------------------------------------------------------------
# LLaVA scripts/convert_seed_for_submission.py (Apache-2.0). vdep: data passed in; returns the accuracies.
# ---------------------------------------------------------------------------------------------
def seed_eval_single(data, result_lines, eval_only_type=None):
    results = {}
    for row in result_lines:
        results[row['question_id']] = row
    type_counts = {}
    correct_counts = {}
    for question_data in data['questions']:
        if eval_only_type is not None and question_data['data_type'] != eval_only_type: continue
        data_type = question_data['question_type_id']
        type_counts[data_type] = type_counts.get(data_type, 0) + 1
        try:
            question_id = int(question_data['question_id'])
        except:
            question_id = question_data['question_id']
        if question_id not in results:
            correct_counts[data_type] = correct_counts.get(data_type, 0)
            continue
        row = results[question_id]
        if row['text'] == question_data['answer']:
            correct_counts[data_type] = correct_counts.get(data_type, 0) + 1
        else:
            correct_counts.setdefault(data_type, 0)  # vdep: upstream raises KeyError for a type with no correct answer
    total_count = 0
    total_correct = 0
    per_type = {}
    for data_type in sorted(type_counts.keys()):
        per_type[data_type] = correct_counts[data_type] / type_counts[data_type] * 100
        total_count += type_counts[data_type]
        total_correct += correct_counts[data_type]
    return {"accuracy": total_correct / total_count * 100, "per_type": per_type, "count": total_count}


def seed_upload(data, results):
    out = []
    for question in data['questions']:
        qid = question['question_id']
        if qid in results:
            result = results[qid]
        else:
            result = results[int(qid)]
        out.append({'question_id': qid, 'prediction': result['text']})
    return out


# ---------------------------------------------------------------------------------------------
# LLaVA playground/data/eval/MME/convert_answer_to_mme.py (eval.zip) + MME eval_tool/calculation.py.
# vdep: the GT is parsed by the caller (same rule: each line question<TAB>answer); calculation takes
# the lines of each task file; sklearn's accuracy_score is the mean of equal pairs (written out).
# ---------------------------------------------------------------------------------------------
def mme_convert(answers, GT):
    from collections import defaultdict
    results = defaultdict(list)
    for answer in answers:
        category = answer['question_id'].split('/')[0]
        file = answer['question_id'].split('/')[-1].split('.')[0] + '.txt'
        results[category].append((file, answer['prompt'], answer['text']))
    files = {}
    for category, cate_tups in results.items():
        lines = []
        for file, prompt, answer in cate_tups:
            if 'Answer the question using a single word or phrase.' in prompt:
                prompt = prompt.replace('Answer the question using a single word or phrase.', '').strip()
            if 'Please answer yes or no.' not in prompt:
                prompt = prompt + ' Please answer yes or no.'
                if (category, file, prompt) not in GT:
                    prompt = prompt.replace(' Please answer yes or no.', '  Please answer yes or no.')
            gt_ans = GT[category, file, prompt]
            tup = file, prompt, gt_ans, answer
            lines.append('\t'.join(tup) + '\n')
        files[category] = lines
    return files


MME_EVAL_TYPE_DICT = {
    "Perception": ["existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark", "artwork", "OCR"],
    "Cognition": ["commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning"],
}


class MmeCalculateMetrics:
    def divide_chunks(self, l, n=2):
        for i in range(0, len(l), n):
            yield l[i:i + n]
        return

    def parse_pred_ans(self, pred_ans):
        pred_label = None
        if pred_ans in ["yes", "no"]:
            pred_label = pred_ans
        else:
            prefix_pred_ans = pred_ans[:4]
            if "yes" in prefix_pred_ans:
                pred_label = "yes"
            elif "no" in prefix_pred_ans:
                pred_label = "no"
            else:
                pred_label = "other"
        return pred_label

    def compute_metric(self, gts, preds):
        assert len(gts) == len(preds)
        label_map = {"yes": 1, "no": 0, "other": -1}
        gts = [label_map[x] for x in gts]
        preds = [label_map[x] for x in preds]
        acc = sum(1 for g, p in zip(gts, preds) if g == p) / len(gts)  # vdep: sklearn accuracy_score
        return {"acc": acc}  # vdep: precision/recall/confusion matrix are computed upstream but not scored

    def process_result(self, task_files):
        model_score_dict = {}
        for eval_type, task_name_list in MME_EVAL_TYPE_DICT.items():
            scores = 0
            task_score_dict = dict()
            for task_name in task_name_list:
                lines = task_files[task_name]  # vdep: was open(results_dir/task_name.txt).readlines()
                chunk_lines = list(self.divide_chunks(lines))
                img_num = len(chunk_lines)
                task_other_ans_num = 0
                task_score = 0
                acc_plus_correct_num = 0
                gts = []
                preds = []
                for img_items in chunk_lines:
                    assert len(img_items) == 2
                    img_correct_num = 0
                    for img_item in img_items:
                        img_name, question, gt_ans, pred_ans = img_item.split("\t")
                        gt_ans = gt_ans.lower()
                        pred_ans = pred_ans.lower()
                        assert gt_ans in ["yes", "no"]
                        pred_ans = self.parse_pred_ans(pred_ans)
                        assert pred_ans in ["yes", "no", "other"]
                        gts.append(gt_ans)
                        preds.append(pred_ans)
                        if gt_ans == pred_ans:
                            img_correct_num += 1
                        if pred_ans not in ["yes", "no"]:
                            task_other_ans_num += 1
                    if img_correct_num == 2:
                        acc_plus_correct_num += 1
                metric_dict = self.compute_metric(gts, preds)
                acc_plus = acc_plus_correct_num / img_num
                metric_dict["acc_plus"] = acc_plus
                for k, v in metric_dict.items():
                    if k in ["acc", "acc_plus"]:
                        task_score += v * 100
                task_score_dict[task_name] = {"score": task_score, "acc": metric_dict["acc"] * 100,
                                              "acc_plus": acc_plus * 100}
                scores += task_score
            model_score_dict[eval_type] = {"total": scores, "tasks": task_score_dict}
        return model_score_dict


# ---------------------------------------------------------------------------------------------
# VLMEvalKit vlmeval/utils/matching_util.py (Apache-2.0): can_infer_option / can_infer_text / can_infer.
# ---------------------------------------------------------------------------------------------
def can_infer_option(answer, choices):
    if 'Failed to obtain answer via API' in answer:
        return False
    reject_to_answer = [
        "Sorry, I can't help with images of people yet.",
        "I can't process this file.",
        "I'm sorry, but without the image provided",
        'Cannot determine the answer'
    ]
    for err in reject_to_answer:
        if err in answer:
            return 'Z'

    def count_choice(splits, choices, prefix='', suffix=''):
        cnt = 0
        for c in choices:
            if prefix + c + suffix in splits:
                cnt += 1
        return cnt

    answer_mod = cp.copy(answer)
    chars = '.()[],:;!*#{}'
    for c in chars:
        answer_mod = answer_mod.replace(c, ' ')
    splits = [x.strip() for x in answer_mod.split()]
    count = count_choice(splits, choices)
    if count == 1:
        for ch in choices:
            if 'A' in splits and len(splits) > 3:
                return False
            if ch in splits:
                return ch
    elif count == 0 and count_choice(splits, {'Z', ''}) == 1:
        return 'Z'
    return False


def can_infer_text(answer, choices):
    answer = answer.lower()
    assert isinstance(choices, dict)
    for k in choices:
        assert k in string.ascii_uppercase
        choices[k] = str(choices[k]).lower()
    cands = []
    for k in choices:
        if choices[k] in answer:
            cands.append(k)
    if len(cands) == 1:
        return cands[0]
    return False


def can_infer(answer, choices):
    answer = str(answer)
    copt = can_infer_option(answer, choices)
    return copt if copt else can_infer_text(answer, choices)


# VLMEvalKit multiple_choice.py circular evaluation, exact_matching policy (model=None): an answer that
# can_infer cannot read is 'Z' (extract_answer_from_item returns opt='Z' without a judge).
def mmbench_build_choices(item):
    ret = {}
    for ch in string.ascii_uppercase:
        if ch in item and item[ch] is not None and item[ch] == item[ch]:  # vdep: pd.isna for parsed TSV cells
            ret[ch] = item[ch]
    return ret


def mmbench_extract(item):
    choices = mmbench_build_choices(item)
    ret = can_infer(item['prediction'], dict(choices))
    return ret if ret else 'Z'


def mmbench_circular(rows):
    """rows: dicts with index, A.., answer, prediction, category. Groups by index % 1e6 (main question)."""
    groups = {}
    for r in rows:
        groups.setdefault(int(r['index']) % 1000000, []).append(r)
    hits = {}
    for g, sub in sorted(groups.items()):
        hit = 1
        for item in sorted(sub, key=lambda x: int(x['index'])):
            if mmbench_extract(item) != item['answer']:
                hit = 0
                break
        hits[g] = hit
    main = {int(r['index']): r for r in rows}
    by_cat = {}
    for g, h in hits.items():
        by_cat.setdefault(main[g]['category'], []).append(h)
    return {"circular_accuracy": sum(hits.values()) / len(hits), "groups": len(hits),
            "per_category": {c: sum(v) / len(v) for c, v in sorted(by_cat.items())},
            "hits": {str(g): h for g, h in hits.items()}}


# ---------------------------------------------------------------------------------------------
# lmms-eval (MIT) realworldqa: NumberWordsToDigitsFilter -> MultiChoiceRegexFilter -> exact_match
# (ignore_case, ignore_punctuation) as metrics.exact_match_hf_evaluate.
# ---------------------------------------------------------------------------------------------
def rwqa_number_words(resp):
    mapping_dict = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                    "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
    return mapping_dict.get(resp.lower(), resp)


def rwqa_multi_choice(resp, question):
    fallback_regexes = []
    choice_to_alpha = {}
    next_alpha = "A"
    multiple_choices_regex = re.compile(r"\b([A-Z])\.\s+([^\n]*)")
    matches = multiple_choices_regex.findall(question)
    for m in matches:
        choice_text = m[1].strip()
        fallback_regexes.append(f"{re.escape(choice_text)}")
        choice_to_alpha[choice_text] = next_alpha
        next_alpha = chr(ord(next_alpha) + 1)
    fallback_regex = re.compile("|".join(fallback_regexes))
    cleaned_resp = re.sub(r"[^\w\s]", "", resp).strip()
    match = fallback_regex.search(cleaned_resp)
    if match and match.group() in choice_to_alpha:
        return choice_to_alpha[match.group()]
    else:
        return cleaned_resp


def exact_match_hf(prediction, reference, ignore_case=True, ignore_punctuation=True):
    if ignore_case:
        prediction = prediction.lower()
        reference = reference.lower()
    if ignore_punctuation:
        repl_table = string.punctuation.maketrans("", "", string.punctuation)
        prediction = prediction.translate(repl_table)
        reference = reference.translate(repl_table)
    return 1.0 if prediction == reference else 0.0


def rwqa_score(doc, resp):
    filtered = rwqa_multi_choice(rwqa_number_words(resp), doc["question"])
    return filtered, exact_match_hf(filtered, doc["answer"])
