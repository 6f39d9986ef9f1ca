#!/usr/bin/env python3
# make_samples.py: rebuilds the sample datasets from text written for edgebench (run from anywhere).
#
# wiki.test.raw (WikiText-2 raw conventions: " = Heading = ", " @-@ ", spaces around
# punctuation) is edited by hand; this script packs it as wikitext-2-raw-v1.zip the way the
# real archive is laid out, and writes a small C4-shaped shard (JSON lines, gzip) from the
# documents below. Output is deterministic (fixed zip dates, gzip mtime 0).
#
# The multiple-choice samples (arc_*_sample.jsonl, piqa_sample.jsonl with
# piqa_sample-labels.lst, winogrande_sample.jsonl, mmlu_sample/*_test.csv) are edited by
# hand, items written for edgebench; this script packs them as the real archives are laid
# out: ARC-V1-Feb2018.zip, physicaliqa-train-dev.zip, winogrande_1.1.zip and data.tar.
import gzip
import io
import json
import os
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

DOCS = [
 ("Looking for a simple weeknight dinner? This one-pan lemon chicken takes about thirty minutes from start to finish. Brown the chicken thighs skin side down until crisp, then add sliced potatoes, a few cloves of garlic and the juice of one lemon. Cover and let everything cook through. Serve with a green salad and a glass of cold water or whatever you like.", "recipes"),
 ("Our store will be closed on Monday for the public holiday. Online orders placed over the weekend will ship on Tuesday morning.", "notice"),
 ("The town council met on Thursday evening to discuss the proposed cycle path along the river. Residents who spoke at the meeting were mostly in favour, although several asked how the path would be lit at night and whether dogs would be allowed. The council agreed to publish a revised plan in the spring and to hold a second public meeting before any work begins. A survey of local businesses found that most expected more visitors if the path is built, especially at weekends. The cost of the first section is estimated at just under two hundred thousand, most of which would come from a regional transport grant. Councillors also discussed the state of the footbridge near the old mill, which has been closed since a storm damaged its railings last winter. An engineer's report recommends replacing the deck and strengthening the supports, and the council will ask for quotes from contractors. Members of the public can read the full minutes of the meeting on the council website or at the library.", "news"),
 ("Great product, arrived quickly and works exactly as described. Would buy again.", "review"),
 ("How to repot a houseplant. First, choose a pot that is only slightly larger than the current one, with a hole in the bottom for drainage. Water the plant a day before so the root ball holds together. Turn the plant on its side, support the base of the stems with one hand and ease the pot away with the other. Loosen any roots that circle the outside of the root ball, place the plant in the new pot at the same depth as before, and fill around it with fresh potting mix. Water well and keep the plant out of strong sun for a week while it settles.", "howto"),
 ("We are a small family business making hand-thrown pottery in our workshop by the coast. Every mug, bowl and plate is shaped on the wheel, glazed by hand and fired in our own kiln, so no two pieces are exactly alike. Visit the shop on Saturdays to see us at work.", "business"),
 ("Frequently asked questions. Can I change my booking? Yes, bookings can be changed up to forty-eight hours before your arrival at no cost. Is parking available? There is free parking for guests behind the main building. Do you allow pets? Well-behaved dogs are welcome in the ground floor rooms for a small fee. What time is breakfast served? Breakfast is served from seven until ten in the dining room, and a packed breakfast can be arranged for early departures.", "faq"),
 ("The history of the village school goes back to 1854, when a single classroom was built next to the church for the children of farm workers. By the end of the century it had grown to three rooms and two teachers, and the attendance registers from that period survive in the county archive. They show how many children were kept at home during the harvest and in bad weather, and how an outbreak of measles in 1893 closed the school for a month. In the twentieth century the building was extended twice, and a playing field was added after the Second World War on land given by a local farmer. The school now has about one hundred and twenty pupils. A group of former pupils has been collecting photographs and memories for a book that will be published for the school's one hundred and seventieth anniversary. They would like to hear from anyone who attended the school, especially before 1960, and from families who still have old reports, uniforms or prize books. Copies of the photographs will be shown in the village hall during the anniversary weekend, when the school will also open its doors to visitors.", "history"),
 ("Join our newsletter for updates on new arrivals and seasonal offers.", "signup"),
 ("Training for your first half marathon does not need to take over your life. Most beginners can get ready in about twelve weeks by running three or four times a week. Keep most of your runs at an easy, conversational pace and add one longer run at the weekend, increasing its distance by a kilometre or two each week. Rest days matter as much as running days, because that is when your body adapts. In the last two weeks before the race, cut back the distance so that you start feeling fresh. On race day, begin slower than you think you should; you can always speed up in the second half.", "fitness"),
 ("The library's autumn reading group will meet on the first Wednesday of each month at half past six. This season we are reading novels set by the sea, starting with a story about a lighthouse keeper's daughter. New members are always welcome and no booking is needed.", "events"),
 ("Product specifications: stainless steel body, capacity one and a half litres, keeps drinks hot for twelve hours and cold for twenty-four. Dishwasher safe lid. Available in four colours.", "product"),
 ("When we bought the old farmhouse it had not been lived in for nearly twenty years. The roof leaked, the windows were rotten and there was a tree growing through the floor of the barn. Friends told us we were mad. Five years later we are still not finished, but the house is warm and dry, the garden is full of vegetables and the barn has become a workshop. This blog is a record of what we learned along the way, including the mistakes. We have written about finding builders who understand old buildings, about lime mortar and why modern cement can damage soft stone walls, and about the long search for second-hand doors that fit the crooked frames. Some posts are practical and some are just about the slow pleasure of watching a neglected place come back to life. If you are thinking of taking on a project like this, our advice is to budget more time than money, to fix the roof before anything else, and to live in the house for a season before deciding what to change. The building will tell you where the light falls, where the wind comes from and which rooms stay cool in summer.", "blog"),
 ("Thank you for your message. We will reply within two working days.", "contact"),
 ("A beginner's guide to birdwatching. You do not need expensive equipment to start watching birds. A pair of binoculars, a notebook and a field guide for your region are enough. Start in a park or garden and learn the common species first, so that anything unusual stands out. Early morning is the best time, when birds are most active and singing. Move slowly, keep the sun behind you, and be patient; many birds will come closer if you stay still. Keeping a list of what you see, with the date and place, soon becomes a record of how the seasons change.", "hobby"),
 ("Terms and conditions apply. Offer valid while stocks last.", "legal"),
 ("The museum's new gallery tells the story of the river from its source in the hills to the estuary. Models, maps and objects found during dredging show how people have used the river for fishing, trade, power and pleasure over two thousand years. One of the highlights is a wooden boat found in the mud in 1987, which has been carefully preserved and is displayed in a climate-controlled case. Children can try on a miller's apron, turn a model water wheel and listen to recordings of people who worked on the barges. The gallery is free to visit and is open every day except Mondays.", "museum"),
 ("Step by step: fixing a dripping tap. Turn off the water supply under the sink and open the tap to drain it. Remove the handle, which is usually held by a small screw under a decorative cap. Unscrew the valve and replace the worn washer or cartridge with one of the same size. Reassemble, turn the water back on and check for leaks.", "howto"),
 ("Local volunteers planted more than three hundred trees along the edge of the playing fields on Saturday, despite the rain. The project, organised by the residents' association, aims to provide shade for the paths and a habitat for birds and insects. The saplings include oak, rowan, hazel and wild cherry, chosen because they grow well in the area's heavy clay soil. Each tree has a guard to protect it from rabbits, and volunteers will water them through their first summer. The association thanked the garden centre that donated the tools and the school children who made signs explaining what each tree is.", "news"),
 ("Size guide: if you are between sizes, we recommend ordering the larger one.", "shop"),
 ("Learning a second language as an adult is slower than it is for children, but adults have advantages too. They can use grammar rules to understand patterns, set themselves goals and choose materials that interest them. The most important thing is regular practice: twenty minutes every day is better than three hours once a week. Listening to podcasts, reading short news articles and talking with other learners all help. Do not be afraid of making mistakes; they are a normal part of learning, and most people are happy to help someone who is trying to speak their language. Over time, words that once needed effort start to come without thinking, and the day you first dream in the new language is worth celebrating.", "education"),
 ("Our opening hours are nine until five on weekdays and ten until four on Saturdays.", "hours"),
 ("This walk follows an old drovers' road over the moor and returns through the wooded valley. It is about eleven kilometres long and takes four hours at a steady pace. The path is rough and can be wet after rain, so wear boots. From the car park, cross the stone bridge and climb the track past the farm until you reach a gate onto open moorland. Follow the wall on your left for two kilometres, then bear right at the cairn towards the ridge, where there are wide views over the valley. Descend by the steep path to the woods, and follow the stream back to the village, where the tea room stays open until five in summer.", "walks"),
 ("Please note that prices shown include tax but not delivery.", "shop"),
]


def pack_zip(name, members):
    """members: (path inside the archive, sample file); directories come first."""
    dirs = []
    for path, _ in members:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i]) + "/"
            if d not in dirs:
                dirs.append(d)
    with zipfile.ZipFile(os.path.join(HERE, name), "w") as z:
        for d in dirs:
            info = zipfile.ZipInfo(d, date_time=(2018, 2, 1, 0, 0, 0))
            info.external_attr = 0o40755 << 16
            z.writestr(info, b"")
        for path, src in members:
            info = zipfile.ZipInfo(path, date_time=(2018, 2, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, open(os.path.join(HERE, src), "rb").read())


def pack_mmlu():
    """data.tar (ustar) with data/test/SUBJECT_test.csv, as Hendrycks' release."""
    with tarfile.open(os.path.join(HERE, "data.tar"), "w", format=tarfile.USTAR_FORMAT) as t:
        for d in ("data", "data/test"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = 0
            t.addfile(info)
        for f in sorted(os.listdir(os.path.join(HERE, "mmlu_sample"))):
            data = open(os.path.join(HERE, "mmlu_sample", f), "rb").read()
            info = tarfile.TarInfo("data/test/" + f)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))


def pack_mc():
    pack_zip("ARC-V1-Feb2018.zip", [
        ("ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl", "arc_easy_sample.jsonl"),
        ("ARC-V1-Feb2018-2/ARC-Challenge/ARC-Challenge-Test.jsonl", "arc_challenge_sample.jsonl"),
    ])
    pack_zip("physicaliqa-train-dev.zip", [
        ("physicaliqa-train-dev/dev.jsonl", "piqa_sample.jsonl"),
        ("physicaliqa-train-dev/dev-labels.lst", "piqa_sample-labels.lst"),
    ])
    pack_zip("winogrande_1.1.zip", [("winogrande_1.1/dev.jsonl", "winogrande_sample.jsonl")])
    pack_mmlu()


def main():
    raw = open(os.path.join(HERE, "wiki.test.raw"), "rb").read()
    with zipfile.ZipFile(os.path.join(HERE, "wikitext-2-raw-v1.zip"), "w") as z:
        d = zipfile.ZipInfo("wikitext-2-raw/", date_time=(2016, 9, 26, 0, 0, 0))
        d.external_attr = 0o40755 << 16
        z.writestr(d, b"")
        f = zipfile.ZipInfo("wikitext-2-raw/wiki.test.raw", date_time=(2016, 9, 26, 0, 0, 0))
        f.compress_type = zipfile.ZIP_DEFLATED
        f.external_attr = 0o644 << 16
        z.writestr(f, raw)
    lines = []
    for i, (text, kind) in enumerate(DOCS):
        lines.append(json.dumps({"text": text,
                                 "timestamp": "2019-04-%02dT10:%02d:00Z" % (1 + i % 28, i),
                                 "url": "https://example.com/edgebench/%s/%d" % (kind, i)}))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path = os.path.join(HERE, "c4-validation.00000-of-00008.json.gz")
    with open(path, "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
            gz.write(data)
    pack_mc()


if __name__ == "__main__":
    main()
