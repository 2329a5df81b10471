import pytest

from papers.latex import latex_to_text


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        (r"$\mathcal{B}$-Coder: Value-Based Deep RL", "ℬ-Coder: Value-Based Deep RL"),
        (
            r"PixArt-$\alpha$: Fast Training of Diffusion Transformer",
            "PixArt-α: Fast Training of Diffusion Transformer",
        ),
        (r"Forward $\chi^2$ Divergence", "Forward χ² Divergence"),
        (
            r"Implicit bias of SGD in $L_2$-regularized linear DNNs",
            "Implicit bias of SGD in L₂-regularized linear DNNs",
        ),
        (r"Learning with $SL(2, \mathbb{R})$-Equivariance", "Learning with SL(2, ℝ)-Equivariance"),
        (r"$\texttt{TACO}$: Temporal Latent Action", "TACO: Temporal Latent Action"),
        (
            r"Fully Dynamic $k$-Clustering in $\tilde O(k)$ Update Time",
            "Fully Dynamic k-Clustering in Õ(k) Update Time",
        ),
        (r"Errors-in-variables Fr\'echet Regression", "Errors-in-variables Fréchet Regression"),
        (r"Diversify \& Conquer", "Diversify & Conquer"),
        (r"Differentiable $ k $-NN Graph Learning", "Differentiable k-NN Graph Learning"),
        (r"Training is $\exists\mathbb{R}$-Complete", "Training is ∃ℝ-Complete"),
        ("Vision Transformers Need Registers", "Vision Transformers Need Registers"),
        (r"An unknown $\frobnicate{x}$ command keeps its letters", "An unknown x command keeps its letters"),
    ],
)
def test_latex_in_titles_is_shown_as_plain_text(title, shown):
    assert latex_to_text(title) == shown


def test_the_paper_page_shows_the_plain_title_and_the_latex_as_written(member_client, lab, paper):
    paper.title = r"$\mathcal{B}$-Coder: Value-Based Deep RL"
    paper.save()
    html = member_client.get(paper.get_absolute_url_for(lab)).content.decode()
    assert '<h1 class="paper__title">ℬ-Coder: Value-Based Deep RL</h1>' in html
    assert r"$\mathcal{B}$-Coder: Value-Based Deep RL</p>" in html
