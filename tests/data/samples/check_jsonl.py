# check_jsonl.py: reads `edgebench samples` output (JSON Lines) and checks every record by hand.
# usage: python3 check_jsonl.py FILE; prints "N records, M multiple-choice" or exits 1.
import json
import sys

FIELDS = ["run", "cell", "device", "task", "protocol", "dataset", "dataset_sha256",
          "doc_index", "doc", "prompt_sha256", "prompt_hash_of", "result", "answer",
          "gold", "correct"]
n = mc = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for lineno, line in enumerate(f, 1):
        o = json.loads(line)
        missing = [k for k in FIELDS if k not in o]
        if missing:
            sys.exit(f"line {lineno}: missing {missing}")
        if len(o["prompt_sha256"]) != 64 or len(o["dataset_sha256"]) != 64:
            sys.exit(f"line {lineno}: a sha256 is not 64 hex digits")
        r = o["result"]
        if o["protocol"] == "hellaswag":
            # acc_norm's choice: the highest log-likelihood per code point of the ending
            norm = [ll / n_cp for ll, n_cp in zip(r["loglik"], r["choice_len"])]
            if o["answer"] != norm.index(max(norm)):
                sys.exit(f"line {lineno}: answer {o['answer']} is not argmax {norm}")
            if r["answer_acc"] != r["loglik"].index(max(r["loglik"])):
                sys.exit(f"line {lineno}: answer_acc is not argmax of loglik")
            if o["correct"] != (o["answer"] == o["gold"]):
                sys.exit(f"line {lineno}: correct disagrees with answer and gold")
            mc += 1
        elif o["answer"] is not None or o["correct"] is not None:
            sys.exit(f"line {lineno}: {o['protocol']} has an answer")
        n += 1
print(f"{n} records, {mc} multiple-choice")
