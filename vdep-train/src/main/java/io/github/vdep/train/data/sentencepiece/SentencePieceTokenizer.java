package io.github.vdep.train.data.sentencepiece;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.vdep.train.data.TextTokenizer;
import io.github.vdep.train.data.TokenSpans;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A LLaMA tokenizer read from {@code tokenizer.model} and {@code tokenizer_config.json}, encoding
 * as Hugging Face's slow {@code LlamaTokenizer} does (the tokenizer LLaVA loads, with
 * {@code use_fast=False}).
 *
 * <p>The text is first split on the special and added tokens ({@code <unk> <s> </s>}, the
 * {@code pad_token}, {@code additional_special_tokens} and {@code added_tokens_decoder}), which
 * become their ids; each piece of text between them is encoded by {@link SentencePieceModel}.
 * {@code legacy} is read from tokenizer_config.json; absent or null means {@code true}, as in
 * {@code transformers}:
 * <ul>
 *   <li>{@code legacy=true}: each piece is encoded on its own, with SentencePiece's dummy
 *       {@code ▁} in front, so the text right after {@code </s>} starts a new word
 *       ({@code "</s>USER"} → {@code </s>, ▁US, ER} with LLaMA's vocabulary);</li>
 *   <li>{@code legacy=false} (Vicuna-1.5's setting), as transformers 4.31-4.33 do it: {@code ▁} in
 *       the text becomes a space, one {@code ▁} is put before the whole text, and the dummy
 *       {@code ▁} of every later piece that does not start with a space is taken off its first
 *       token, which is then looked up as it stands ({@code US, ER}; the unknown id if the
 *       vocabulary lacks it, as in transformers).</li>
 * </ul>
 * {@code add_bos_token} and {@code add_eos_token} are honoured by {@link #encodeWithSpecialTokens};
 * {@link #encode} adds nothing, as the {@link TextTokenizer} contract says.
 */
public final class SentencePieceTokenizer implements TextTokenizer, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SentencePieceTokenizer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The model's file name in a Hugging Face directory. */
    public static final String MODEL_FILE = "tokenizer.model";

    private final SentencePieceModel model;
    private final boolean legacy;
    private final boolean addBos;
    private final boolean addEos;
    private final int bos;
    private final int eos;
    private final int pad;
    /** Special and added tokens, longest first (the trie's longest match). */
    private final List<String> specials;
    private final Map<String, Integer> specialIds;
    private final Map<Integer, String> specialById;
    private final int vocabSize;

    private SentencePieceTokenizer(SentencePieceModel model, boolean legacy, boolean addBos, boolean addEos, int bos, int eos, int pad,
            Map<String, Integer> specialIds) {
        this.model = model;
        this.legacy = legacy;
        this.addBos = addBos;
        this.addEos = addEos;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
        this.specialIds = Map.copyOf(specialIds);
        Map<Integer, String> byId = new HashMap<>();
        specialIds.forEach((t, id) -> byId.put(id, t));
        this.specialById = Map.copyOf(byId);
        List<String> sorted = new ArrayList<>(specialIds.keySet());
        sorted.sort((a, b) -> b.length() - a.length());
        this.specials = List.copyOf(sorted);
        int max = model.size();
        for (int id : specialIds.values()) {
            max = Math.max(max, id + 1);
        }
        this.vocabSize = max;
    }

    /**
     * Loads {@code tokenizer.model} with the {@code tokenizer_config.json} (and
     * {@code special_tokens_map.json}) beside it.
     *
     * @param modelOrDir the {@code tokenizer.model} file or its directory
     * @return the tokenizer
     * @throws IllegalArgumentException if a file is missing or invalid (the message names it)
     */
    public static SentencePieceTokenizer load(Path modelOrDir) {
        Objects.requireNonNull(modelOrDir, "modelOrDir");
        Path file = Files.isDirectory(modelOrDir) ? modelOrDir.resolve(MODEL_FILE) : modelOrDir;
        SentencePieceModel model = SentencePieceModel.load(file);
        JsonNode config = readJson(file.resolveSibling("tokenizer_config.json"));
        JsonNode specialMap = readJson(file.resolveSibling("special_tokens_map.json"));
        JsonNode legacyNode = config.get("legacy");
        boolean legacy = legacyNode == null || legacyNode.isNull() || legacyNode.asBoolean(true);
        boolean addBos = config.path("add_bos_token").asBoolean(true);
        boolean addEos = config.path("add_eos_token").asBoolean(false);

        Map<String, Integer> specials = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = config.path("added_tokens_decoder").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String content = e.getValue().path("content").asText(null);
            if (content != null) {
                try {
                    specials.put(content, Integer.parseInt(e.getKey()));
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException(file.resolveSibling("tokenizer_config.json") + ": added_tokens_decoder key '"
                            + e.getKey() + "' is not an id", ex);
                }
            }
        }
        String unkName = tokenName(config, specialMap, "unk_token", "<unk>");
        String bosName = tokenName(config, specialMap, "bos_token", "<s>");
        String eosName = tokenName(config, specialMap, "eos_token", "</s>");
        String padName = tokenName(config, specialMap, "pad_token", null);
        List<String> names = new ArrayList<>(Arrays.asList(unkName, bosName, eosName, padName));
        for (JsonNode n : config.path("additional_special_tokens")) {
            names.add(n.isTextual() ? n.asText() : n.path("content").asText(null));
        }
        for (JsonNode n : specialMap.path("additional_special_tokens")) {
            names.add(n.isTextual() ? n.asText() : n.path("content").asText(null));
        }
        for (String name : names) {
            if (name != null && !specials.containsKey(name)) {
                int id = model.pieceToId(name);
                if (id == model.unkId() && !name.equals(model.piece(model.unkId()))) {
                    throw new IllegalArgumentException(file + ": special token '" + name
                            + "' from tokenizer_config.json is neither a piece of the model nor in added_tokens_decoder");
                }
                specials.put(name, id);
            }
        }
        int bos = specials.get(bosName);
        int eos = specials.get(eosName);
        int pad = padName != null ? specials.get(padName) : specials.get(unkName);
        SentencePieceTokenizer tok = new SentencePieceTokenizer(model, legacy, addBos, addEos, bos, eos, pad, specials);
        LOG.info("Loaded SentencePiece tokenizer {} ({} ids; legacy={}, bos={}, eos={}, pad={})", file, tok.vocabSize, legacy, bos, eos, pad);
        return tok;
    }

    private static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException(file + " must hold a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** A special token's text: tokenizer_config.json, else special_tokens_map.json (a string or {"content": ...}). */
    private static String tokenName(JsonNode config, JsonNode map, String key, String fallback) {
        for (JsonNode source : new JsonNode[] {config, map}) {
            JsonNode n = source.get(key);
            if (n != null && n.isTextual()) {
                return n.textValue();
            }
            if (n != null && n.isObject() && n.hasNonNull("content")) {
                return n.get("content").asText();
            }
            if (n != null && n.isNull()) {
                return fallback;
            }
        }
        return fallback;
    }

    /** @return the SentencePiece model */
    public SentencePieceModel model() {
        return model;
    }

    /** @return whether the legacy (pre-4.31) handling of text after special tokens is used */
    public boolean legacy() {
        return legacy;
    }

    /** @return tokenizer_config.json's {@code add_bos_token} */
    public boolean addBosToken() {
        return addBos;
    }

    /** @return tokenizer_config.json's {@code add_eos_token} */
    public boolean addEosToken() {
        return addEos;
    }

    @Override
    public int[] encode(String text) {
        return encodeWithOffsets(text).ids();
    }

    /**
     * Encodes as {@code tokenizer(text).input_ids} does: BOS and EOS added as
     * {@code add_bos_token} and {@code add_eos_token} say.
     *
     * @param text the text
     * @return the ids
     */
    public int[] encodeWithSpecialTokens(String text) {
        int[] ids = encode(text);
        int[] out = new int[ids.length + (addBos ? 1 : 0) + (addEos ? 1 : 0)];
        int k = 0;
        if (addBos) {
            out[k++] = bos;
        }
        System.arraycopy(ids, 0, out, k, ids.length);
        if (addEos) {
            out[out.length - 1] = eos;
        }
        return out;
    }

    @Override
    public TokenSpans encodeWithOffsets(String text) {
        Objects.requireNonNull(text, "text");
        List<int[]> tokens = new ArrayList<>(); // {id, start, end} in the caller's text
        if (text.isEmpty()) {
            return spans(tokens);
        }
        // legacy=false works on "▁" + text (▁ in the text as spaces): offsets shift by one.
        String work = legacy ? text : SentencePieceModel.SPACE + text.replace(SentencePieceModel.SPACE, ' ');
        int shift = legacy ? 0 : 1;
        int pos = 0;
        boolean first = true;
        while (pos < work.length()) {
            int at = -1;
            String special = null;
            for (int i = pos; i < work.length() && at < 0; i++) {
                for (String s : specials) {
                    if (work.startsWith(s, i)) {
                        at = i;
                        special = s;
                        break;
                    }
                }
            }
            int chunkEnd = at < 0 ? work.length() : at;
            if (chunkEnd > pos) {
                encodeChunk(work.substring(pos, chunkEnd), pos - shift, first, tokens);
            }
            first = false;
            if (at < 0) {
                break;
            }
            tokens.add(new int[] {specialIds.get(special), Math.max(0, at - shift), at + special.length() - shift});
            pos = at + special.length();
        }
        return spans(tokens);
    }

    /** LlamaTokenizer._tokenize for one piece of text between special tokens; {@code base} maps its indices to the caller's. */
    private void encodeChunk(String chunk, int base, boolean first, List<int[]> out) {
        if (legacy) {
            for (SentencePieceModel.Piece p : model.encode(chunk, model.addDummyPrefix())) {
                out.add(new int[] {p.id(), base + p.start(), base + p.end()});
            }
            return;
        }
        boolean isFirst = first && chunk.charAt(0) == SentencePieceModel.SPACE;
        String text = isFirst ? chunk.substring(1) : chunk;
        int offset = isFirst ? base + 1 : base;
        List<SentencePieceModel.Piece> pieces = model.encode(text, model.addDummyPrefix());
        int from = 0;
        if (!isFirst && !text.startsWith(" ") && !pieces.isEmpty()
                && model.piece(pieces.get(0).id()).charAt(0) == SentencePieceModel.SPACE
                && model.kind(pieces.get(0).id()) != SentencePieceModel.Kind.BYTE) {
            // transformers strips the ▁ from the first token's text and looks the rest up as it is
            SentencePieceModel.Piece p = pieces.get(0);
            String rest = model.piece(p.id()).substring(1);
            if (!rest.isEmpty()) {
                out.add(new int[] {model.pieceToId(rest), Math.max(0, offset + p.start()), offset + p.end()});
            }
            from = 1;
        }
        for (int i = from; i < pieces.size(); i++) {
            SentencePieceModel.Piece p = pieces.get(i);
            out.add(new int[] {p.id(), Math.max(0, offset + p.start()), offset + p.end()});
        }
    }

    private static TokenSpans spans(List<int[]> tokens) {
        int[] ids = new int[tokens.size()];
        int[] starts = new int[ids.length];
        int[] ends = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokens.get(i)[0];
            starts[i] = tokens.get(i)[1];
            ends[i] = Math.max(starts[i], tokens.get(i)[2]);
        }
        return new TokenSpans(ids, starts, ends);
    }

    /**
     * Decodes as {@code LlamaTokenizer.decode} does without skipping special tokens: runs of
     * ordinary ids are decoded by SentencePiece, special tokens are written as their text.
     */
    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        List<Integer> run = new ArrayList<>();
        boolean atStart = true;
        for (int id : ids) {
            String special = specialById.get(id);
            if (special != null) {
                sb.append(flush(run, atStart));
                sb.append(special);
                atStart = false;
            } else {
                if (id < 0 || id >= model.size()) {
                    throw new IllegalArgumentException("id " + id + " is outside the vocabulary (" + vocabSize + " ids)");
                }
                run.add(id);
            }
        }
        sb.append(flush(run, atStart));
        return sb.toString();
    }

    private String flush(List<Integer> run, boolean atStart) {
        if (run.isEmpty()) {
            return "";
        }
        int[] a = run.stream().mapToInt(Integer::intValue).toArray();
        run.clear();
        return model.decode(a, atStart && model.addDummyPrefix());
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public int padId() {
        return pad;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public OptionalInt tokenId(String token) {
        Integer s = specialIds.get(token);
        if (s != null) {
            return OptionalInt.of(s);
        }
        int id = model.pieceToId(token);
        return id == model.unkId() && !token.equals(model.piece(id)) ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Nothing to release; present so both tokenizers can be used in try-with-resources. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "SentencePieceTokenizer[" + model.file() + ", legacy=" + legacy + "]";
    }
}
