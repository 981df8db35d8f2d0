"""Tiny, config-initialised models for tests: BERT, GPT-2 and Llama with a locally built word-level tokenizer.

Each model has hidden size 32, 2 layers, 4 heads (Llama: 2 key/value heads) and an intermediate size of 64, so a
forward pass on CPU takes milliseconds. Weights are seeded, saved as safetensors, and the folder loads with
``ModelConfig(source="folder", path=str(folder))`` through the Auto classes (sequence classification for every
kind; causal LM for gpt2 and llama).
"""

from __future__ import annotations

from pathlib import Path

KINDS = ("bert", "gpt2", "llama", "t5", "bart")
SEQ2SEQ_KINDS = ("t5", "bart")

HIDDEN = 32
LAYERS = 2
HEADS = 4
INTERMEDIATE = 64
MAX_POSITIONS = 256

_COMMON = """
the of and to a in is it you that he was for on are with as i his they be at one have this from or had by
not word but what some we can out other were all there when up use your how said an each she which do their
time if will way about many then them write would like so these her long make thing see him two has look more
day could go come did number sound no most people my over know water than call first who may down side been
now find any new work part take get place made live where after back little only round man year came show
every good me give our under name very through just form sentence great think say help low line differ turn
cause much mean before move right boy old too same tell does set three want air well also play small end put
home read hand port large spell add even land here must big high such follow act why ask men change went
light kind off need house picture try us again animal point mother world near build self earth father head
stand own page should country found answer school grow study still learn plant cover food sun four between
state keep eye never last let thought city tree cross farm hard start might story saw far sea draw left late
run don't while press close night real life few north open seem together next white children begin got walk
example ease paper group always music those both mark often letter until mile river car feet care second
book carry took science eat room friend began idea fish mountain stop once base hear horse cut sure watch
color face wood main enough plain girl usual young ready above ever red list though feel talk bird soon body
dog family direct pose leave song measure door product black short numeral class wind question happen
complete ship area half rock order fire south problem piece told knew pass since top whole king space heard
best hour better true during hundred five remember step early hold west ground interest reach fast verb sing
listen six table travel less morning ten simple several vowel toward war lay against pattern slow center love
person money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly
fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty
drive stood contain front teach week final gave green oh quick develop ocean warm free minute strong special
mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object
decide surface deep moon island foot system busy test record boat common gold possible plane stead dry wonder
laugh thousand ago ran check game shape equate hot miss brought heat snow tire bring yes distant fill east
paint language among
account password login reset error crash bug refund payment invoice charge billing order shipping delivery
late broken app update install slow fast thanks please urgent issue ticket support email phone customer
service subscription cancel upgrade price plan feature request working works screen button click page loading
question summarize translate explain list write answer instruction response prompt sentence paragraph
positive negative neutral label review movie great terrible awesome bad happy sad angry
hi feedback technical hello team words thank cheers advance hey excuse writing reply card data code message
address tracking used yesterday instead means arrived someone shipment charged confusing factor access else
settings parcel days lower bill wrong layout username fails credit am mode forgot expired sorry package handle
version transit send really link receipt profile case stopped search modern looks latest design company clean
android plus notifications mobile gives vat suggestion colour choose ve uploading tablet paying listening file
declined within videos useful tutorial sign iphone windows twice received pc month keyboard export drains
cancelled battery upper tap rewrite reverse politely onboarding lost laptop honestly damaged copy convert
carrier buttons beginner arrives frozen divided customs changes waiting usually supposed renewed pick log
download delete costs authentication tv transfer submit smart says pay overcharged merge keeps helpful freezes
delivered crashing chromebook bank accounts user stuck shows promo paid missing mac images doesn available
widget verification sync stars size return patient offline monthly editor wanted switch statement save
recovery recognise locked into filters extremely define cheaper attempts without warning view trial solved
shared session premium offer minutes getting folders express ended billed tab subtract shortcuts reports
grinder discount coffee added trouble timeout starter dhl calendar blank annual website verify taking stays
sort something share sent security screenshot restart passed opened mine lamp hours frustrated desktop
dashboard courier contact compute client business bar alphabetically won times running rep pro osaka lyon load
item cost basic ups tiger spinner shoes sam porto office melbourne jacket impressed fan endless driver display
berlin apple upload toronto today startup monday leeds fix enjoy checkout bottle bigger backpack stone ruined
replied program priya post pencil numbers nobody network headphones everything dublin denver cloud charging
chair another disappointed chat austin written store quickly proof pls model meaning marco lena
"""

_PUNCTUATION = list(".,!?;:'\"()-/") + [str(d) for d in range(10)]

ENCODER_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
CAUSAL_SPECIALS = ("<pad>", "<unk>", "<eos>")


def word_list() -> list[str]:
    """The tokenizer vocabulary's words (deduplicated, in first-seen order, punctuation and digits included)."""
    seen: dict[str, None] = {}
    for word in _COMMON.split():
        for piece in word.replace("'", " ' ").split():
            seen.setdefault(piece.lower(), None)
    for p in _PUNCTUATION:
        seen.setdefault(p, None)
    return list(seen)


def make_tokenizer(kind: str):  # -> transformers.PreTrainedTokenizerFast
    """A lowercase word-level tokenizer over :func:`word_list` with the kind's special tokens set."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    specials = ENCODER_SPECIALS if kind == "bert" else CAUSAL_SPECIALS
    vocab = {tok: i for i, tok in enumerate(list(specials) + word_list())}
    unk = "[UNK]" if kind == "bert" else "<unk>"
    tok = Tokenizer(WordLevel(vocab=vocab, unk_token=unk))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    if kind == "bert":
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tok,
            unk_token="[UNK]",
            pad_token="[PAD]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            mask_token="[MASK]",
            model_max_length=MAX_POSITIONS,
        )
    if kind in SEQ2SEQ_KINDS:  # encoder inputs and targets end with <eos>, as T5's and BART's tokenizers do
        tok.post_processor = processors.TemplateProcessing(
            single="$A <eos>", pair="$A <eos> $B <eos>", special_tokens=[("<eos>", vocab["<eos>"])])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token="<eos>",
        bos_token="<eos>",
        model_max_length=MAX_POSITIONS,
    )


def make_config(kind: str, vocab_size: int, pad_id: int, eos_id: int | None, num_labels: int):
    """The tiny transformers config for ``kind``."""
    from transformers import BertConfig, GPT2Config, LlamaConfig

    common = {"num_labels": num_labels, "pad_token_id": pad_id}
    if kind == "bert":
        return BertConfig(
            vocab_size=vocab_size,
            hidden_size=HIDDEN,
            num_hidden_layers=LAYERS,
            num_attention_heads=HEADS,
            intermediate_size=INTERMEDIATE,
            max_position_embeddings=MAX_POSITIONS,
            **common,
        )
    if kind == "gpt2":
        return GPT2Config(
            vocab_size=vocab_size,
            n_embd=HIDDEN,
            n_layer=LAYERS,
            n_head=HEADS,
            n_inner=INTERMEDIATE,
            n_positions=MAX_POSITIONS,
            bos_token_id=eos_id,
            eos_token_id=eos_id,
            **common,
        )
    if kind == "llama":
        return LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=HIDDEN,
            num_hidden_layers=LAYERS,
            num_attention_heads=HEADS,
            num_key_value_heads=2,
            intermediate_size=INTERMEDIATE,
            max_position_embeddings=MAX_POSITIONS,
            bos_token_id=eos_id,
            eos_token_id=eos_id,
            tie_word_embeddings=False,
            **common,
        )
    if kind == "t5":
        from transformers import T5Config

        return T5Config(vocab_size=vocab_size, d_model=HIDDEN, d_kv=HIDDEN // HEADS, d_ff=INTERMEDIATE,
                        num_layers=LAYERS, num_decoder_layers=LAYERS, num_heads=HEADS, eos_token_id=eos_id,
                        decoder_start_token_id=pad_id, pad_token_id=pad_id)
    if kind == "bart":
        from transformers import BartConfig

        return BartConfig(vocab_size=vocab_size, d_model=HIDDEN, encoder_layers=LAYERS, decoder_layers=LAYERS,
                          encoder_attention_heads=HEADS, decoder_attention_heads=HEADS, encoder_ffn_dim=INTERMEDIATE,
                          decoder_ffn_dim=INTERMEDIATE, max_position_embeddings=MAX_POSITIONS, pad_token_id=pad_id,
                          bos_token_id=eos_id, eos_token_id=eos_id, decoder_start_token_id=eos_id,
                          forced_eos_token_id=eos_id)
    raise ValueError(f"unknown tiny model kind {kind!r}; use one of {', '.join(KINDS)}")


def make_tiny_model(kind: str, folder: str | Path, num_labels: int = 2, seed: int = 0) -> Path:
    """Build and save a tiny ``kind`` model ("bert" | "gpt2" | "llama") plus its tokenizer into ``folder``.

    BERT is saved as a ``BertModel`` (encoder + pooler) so ``AutoModelForSequenceClassification`` (or
    ``AutoModelForQuestionAnswering``) adds a fresh head; T5 and BART are saved as ``AutoModelForSeq2SeqLM``;
    GPT-2 and Llama are saved as causal LMs, loadable with ``AutoModelForCausalLM`` and (with a fresh
    score head) ``AutoModelForSequenceClassification``. Returns the folder.
    """
    import torch
    from transformers import AutoModelForCausalLM, BertModel

    if kind not in KINDS:
        raise ValueError(f"unknown tiny model kind {kind!r}; use one of {', '.join(KINDS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = make_tokenizer(kind)
    eos_id = None if kind == "bert" else tokenizer.eos_token_id
    config = make_config(kind, len(tokenizer), tokenizer.pad_token_id, eos_id, num_labels)
    torch.manual_seed(seed)
    if kind == "bert":
        model = BertModel(config)
    elif kind in SEQ2SEQ_KINDS:
        from transformers import AutoModelForSeq2SeqLM

        model = AutoModelForSeq2SeqLM.from_config(config)
    else:
        model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
