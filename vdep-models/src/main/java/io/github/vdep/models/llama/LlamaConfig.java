package io.github.vdep.models.llama;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The fields of a Hugging Face {@code LlamaConfig} this implementation uses; missing fields take
 * Hugging Face's defaults. Unsupported variants (RoPE scaling, other activations) are rejected.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LlamaConfig(
        @JsonProperty("vocab_size") Integer vocabSize,
        @JsonProperty("hidden_size") Integer hiddenSize,
        @JsonProperty("intermediate_size") Integer intermediateSize,
        @JsonProperty("num_hidden_layers") Integer numHiddenLayers,
        @JsonProperty("num_attention_heads") Integer numAttentionHeads,
        @JsonProperty("num_key_value_heads") Integer numKeyValueHeads,
        @JsonProperty("head_dim") Integer headDim,
        @JsonProperty("rms_norm_eps") Double rmsNormEps,
        @JsonProperty("rope_theta") Double ropeTheta,
        @JsonProperty("max_position_embeddings") Integer maxPositionEmbeddings,
        @JsonProperty("tie_word_embeddings") Boolean tieWordEmbeddings,
        @JsonProperty("hidden_act") String hiddenAct,
        @JsonProperty("attention_bias") Boolean attentionBias,
        @JsonProperty("bos_token_id") Integer bosTokenId,
        @JsonProperty("eos_token_id") JsonNode eosTokenId,
        @JsonProperty("pad_token_id") Integer padTokenId,
        @JsonProperty("rope_scaling") JsonNode ropeScaling,
        @JsonProperty("model_type") String modelType) {

    public LlamaConfig {
        vocabSize = vocabSize != null ? vocabSize : 32000;
        hiddenSize = hiddenSize != null ? hiddenSize : 4096;
        intermediateSize = intermediateSize != null ? intermediateSize : 11008;
        numHiddenLayers = numHiddenLayers != null ? numHiddenLayers : 32;
        numAttentionHeads = numAttentionHeads != null ? numAttentionHeads : 32;
        numKeyValueHeads = numKeyValueHeads != null ? numKeyValueHeads : numAttentionHeads;
        // out-of-range sizes are reported by ConfigCheck, which names the field; no division by zero here
        headDim = headDim != null ? headDim : (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0);
        rmsNormEps = rmsNormEps != null ? rmsNormEps : 1e-6;
        ropeTheta = ropeTheta != null ? ropeTheta : 10000.0;
        maxPositionEmbeddings = maxPositionEmbeddings != null ? maxPositionEmbeddings : 2048;
        tieWordEmbeddings = tieWordEmbeddings != null ? tieWordEmbeddings : false;
        hiddenAct = hiddenAct != null ? hiddenAct : "silu";
        attentionBias = attentionBias != null ? attentionBias : false;
        bosTokenId = bosTokenId != null ? bosTokenId : 1;
        modelType = modelType != null ? modelType : "llama";
        if (numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + headDim + " must be even for rotary embeddings");
        }
        if (!hiddenAct.equals("silu")) {
            throw new IllegalArgumentException("unsupported text hidden_act '" + hiddenAct + "' (LLaMA uses silu)");
        }
        if (ropeScaling != null && !ropeScaling.isNull()) {
            throw new IllegalArgumentException("rope_scaling " + ropeScaling + " is not supported (plain RoPE only)");
        }
    }

    /** A config with the given sizes and LLaMA-2 defaults elsewhere (RMSNorm eps 1e-5). */
    public static LlamaConfig of(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int maxPositions) {
        return new LlamaConfig(vocab, hidden, intermediate, layers, heads, kvHeads, null, 1e-5, 10000.0, maxPositions, false,
                "silu", false, 1, null, 0, null, "llama");
    }

    /** The first end-of-sequence id (configs may give a list). */
    public int eosToken() {
        if (eosTokenId == null || eosTokenId.isNull()) {
            return 2;
        }
        return eosTokenId.isArray() ? eosTokenId.get(0).asInt() : eosTokenId.asInt();
    }
}
